"""The predict_hits stage's engine: drum audio in, drum hits out.

`load_predictor(settings)` gives the process's `HitPredictor` for the configured model.
"""
