"""Celery's broker when DrumScribe runs on one machine: kombu's SQLAlchemy transport, made to forget acked messages."""
