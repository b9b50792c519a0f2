"""Storage: SQLAlchemy 2.0 async models, the engine, the secret box and migrations."""
