"""fsengine: recompute ml_feature_store_v2 locally, for many game dates in one pass."""

__version__ = "0.1.0"
