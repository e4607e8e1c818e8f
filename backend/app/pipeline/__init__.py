"""The transcription pipeline: ingest_audio → separate_drums → predict_hits → transcribe_and_export.

`app.pipeline.stage_table` declares the stages once; the command line and the Celery tasks run the
stage functions of `app.pipeline.stages` through it.
"""
