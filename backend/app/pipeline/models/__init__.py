"""Model artifacts: where the drum-hit model comes from and where it is cached."""

from app.pipeline.models.resolver import ModelResolver, get_model_resolver

__all__ = ["ModelResolver", "get_model_resolver"]
