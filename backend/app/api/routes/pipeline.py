"""/api/v1/pipeline: the stages a job goes through and the files it hands back, from the stage table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.pipeline.stage_table import ARTIFACTS, STAGES
from app.schemas import Pipeline, PipelineArtifact, PipelineStage

router = APIRouter(prefix="/api/v1", tags=["pipeline"])

PIPELINE = Pipeline(
    stages=[
        PipelineStage(
            name=stage.name,
            job_status=stage.job_status,
            label=stage.label,
            detail=stage.detail,
            failure_label=stage.failure_label,
        )
        for stage in STAGES
    ],
    artifacts=[
        PipelineArtifact(
            name=a.name, content_type=a.content_type, label=a.label, description=a.description, optional=a.optional
        )
        for a in ARTIFACTS
    ],
)

# The answer is also the schema's example: the web UI renders from it until the API has answered.
EXAMPLE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"example": PIPELINE.model_dump(mode="json")}}}
}


@router.get("/pipeline", response_model=Pipeline, responses=EXAMPLE, summary="The pipeline's stages and artifacts")
def pipeline() -> Pipeline:
    """The stages in order (name, job status while it runs, label) and the files a finished job hands back."""
    return PIPELINE
