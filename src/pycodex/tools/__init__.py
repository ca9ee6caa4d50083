"""Tools the model can call: their specs (what the model sees) and their handlers."""
