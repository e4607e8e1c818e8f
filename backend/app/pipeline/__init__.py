"""The transcription pipeline: ingest_audio → separate_drums → predict_hits → transcribe_and_export.

The command line, the Celery tasks and the tests all call the stage functions in `app.pipeline.stages`.
"""
