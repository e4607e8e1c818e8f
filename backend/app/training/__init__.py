"""Training DrumScribe's frame-level drum model from synthetic songs.

Never imported by inference: the product only needs `app.pipeline.prediction.frame`, whose recipe
(features, classes) this package imports. Entry point: `python -m app.training --help`
(`scripts/train_model.sh` runs it end to end).
"""
