"""Alert rules, their evaluation once across processes, and delivery of incidents."""
