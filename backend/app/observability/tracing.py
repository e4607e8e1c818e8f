"""OpenTelemetry traces over OTLP/HTTP, on when OTEL_EXPORTER_OTLP_ENDPOINT is set.

The API's request span and every Celery task of the job share one trace: the Celery instrumentation
carries the trace context in the task headers from the API through the whole chain.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.core.config import Settings

_configured = False


def setup_tracing(settings: Settings, component: str) -> bool:
    """Install a tracer provider exporting to the OTLP endpoint; False (and nothing done) without one."""
    global _configured
    if not settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        return False
    if _configured:
        return True
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": f"{settings.OTEL_SERVICE_NAME}-{component}"})
    provider = TracerProvider(resource=resource)
    endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    _configured = True
    return True


def instrument_fastapi(app: FastAPI, settings: Settings) -> None:
    """Trace every API request, and let the tasks it enqueues join the request's trace."""
    if setup_tracing(settings, "api"):
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls="/metrics,/api/v1/health")
        CeleryInstrumentor().instrument()


def instrument_celery_process(settings: Settings) -> None:
    """Trace the tasks of a worker process (called in each pool process, after the fork)."""
    if setup_tracing(settings, "worker"):
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument()
