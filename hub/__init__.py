"""UniLLM Hub: the core. Knows nothing of any platform; connectors call `Hub.chat`."""
