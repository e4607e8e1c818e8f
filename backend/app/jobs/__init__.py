"""The life of a job: created by the API, carried through the stages by the workers, cleaned up by beat."""
