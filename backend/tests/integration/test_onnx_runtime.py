"""The bundled model in onnxruntime: no TensorFlow in the process, .onnx MODEL_URIs, damaged files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from app.core.config import BUNDLED_MODEL_PATH, Settings
from app.core.errors import ModelUnavailableError
from app.pipeline.models import ModelResolver, get_model_resolver
from app.pipeline.prediction import frame
from app.pipeline.prediction.factory import load_predictor
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import default_sample_kit, render_groove
from tests.conftest import write_wav

pytestmark = pytest.mark.integration

HEAVY_MODULES = ("tensorflow", "keras")

# Runs one entry point of DrumScribe in a fresh interpreter, then reports which heavy modules it imported.
DRIVER = """
import json, sys
entry = sys.argv[1]
if entry == "cli":
    from app.cli import main
    result = main(sys.argv[2:])
else:
    from app.core.config import get_settings
    from app.pipeline.prediction.factory import load_predictor
    from app.worker import load_models
    load_models()
    result = load_predictor(get_settings()).name
print(json.dumps({"result": result, "modules": sorted(m for m in sys.modules if m.split(".")[0] in
    ("tensorflow", "keras", "onnxruntime", "librosa", "numba") or m == "scipy.signal")}))
"""

SLOW_IMPORTS = ("librosa", "numba", "scipy.signal")
"""About 1.3 s of start-up together; the bundled model's features are computed without them."""


def run_driver(*args: str, tmp_path: Path) -> tuple[str, dict[str, object]]:
    """stdout's lines before the driver's report, and the report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    env.update(MODEL_CACHE_DIR=str(tmp_path / "models"), SEPARATOR="none", XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, *args], capture_output=True, text=True, env=env, check=False, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    *before, report = proc.stdout.strip().splitlines()
    return "\n".join(before), json.loads(report)


def assert_ran_without_tensorflow(report: dict[str, object]) -> None:
    modules = report["modules"]
    assert isinstance(modules, list)
    assert not [m for m in modules if m.split(".")[0] in HEAVY_MODULES], f"TensorFlow was imported: {modules[:5]}"
    assert "onnxruntime" in modules, "the model ran in onnxruntime"


def rock_audio() -> np.ndarray:
    return render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=4, start_s=0.5), default_sample_kit())


def test_transcribe_with_the_bundled_model_never_imports_tensorflow(tmp_path: Path) -> None:
    song = write_wav(tmp_path / "rock.wav", rock_audio())
    printed, report = run_driver(
        "cli", "transcribe", str(song), "--out", str(tmp_path / "out"), "--json", tmp_path=tmp_path
    )
    summary = json.loads(printed)
    assert report["result"] == 0 and summary["model"] == frame.KIND and summary["hits"] > 40
    assert_ran_without_tensorflow(report)
    modules = report["modules"]
    assert isinstance(modules, list)
    slow = [m for m in modules if m in SLOW_IMPORTS]
    assert not slow, f"the bundled model's command line imported {slow}"


def test_a_heavy_worker_process_loads_the_bundled_model_without_tensorflow(tmp_path: Path) -> None:
    _, report = run_driver("worker", tmp_path=tmp_path)
    assert report["result"] == frame.KIND
    assert_ran_without_tensorflow(report)


def test_an_onnx_model_uri_is_cached_and_run_by_onnxruntime(tmp_path: Path) -> None:
    source = tmp_path / "shared" / "my_drums.onnx"
    source.parent.mkdir()
    shutil.copy(BUNDLED_MODEL_PATH, source)
    settings = Settings(MODEL_URI=source.as_uri(), MODEL_CACHE_DIR=tmp_path / "cache", MODEL_THREADS=1)

    predictor = load_predictor(settings)

    resolver = get_model_resolver(settings)
    assert resolver.cache_path == tmp_path / "cache" / "complete_network" / "v1.0.0" / "complete_network.onnx"
    assert resolver.cache_path.read_bytes() == source.read_bytes()
    assert resolver.get_onnx_session().get_session_options().intra_op_num_threads == 1
    assert predictor.name == frame.KIND and load_predictor(settings) is predictor
    kicks = [h.time for h in predictor.predict(rock_audio(), 44_100) if h.instrument == "kick"]
    assert len(kicks) >= 10  # 12 written


def test_a_web_page_named_onnx_is_never_cached(tmp_path: Path) -> None:
    page = tmp_path / "model.onnx"
    page.write_text("<!DOCTYPE html><html><body>a GitHub page</body></html>")
    with pytest.raises(ModelUnavailableError, match=r"is not an ONNX model .*<!DOCTYPE html>.*the /raw/ link"):
        ModelResolver(page.as_uri(), "v1", tmp_path / "cache").get_model_path()
    assert not list((tmp_path / "cache").rglob("*.onnx"))


def test_a_keras_file_named_onnx_is_refused_with_a_hint(tmp_path: Path) -> None:
    misnamed = tmp_path / "model.onnx"
    with h5py.File(misnamed, "w") as f:
        f["weights"] = np.ones(10, dtype=np.float32)
    with pytest.raises(ModelUnavailableError, match=r"not an ONNX model.*it is a Keras \.h5 model: name it \.h5"):
        ModelResolver(str(misnamed), "v1", tmp_path / "cache").get_model_path()


def test_a_truncated_onnx_file_is_a_clear_error_that_names_the_cached_file(tmp_path: Path) -> None:
    truncated = tmp_path / "model.onnx"
    truncated.write_bytes(BUNDLED_MODEL_PATH.read_bytes()[:200_000])
    resolver = ModelResolver(truncated.as_uri(), "v1", tmp_path / "cache")
    with pytest.raises(ModelUnavailableError) as caught:
        resolver.get_onnx_session()
    message = str(caught.value)
    assert f"onnxruntime could not load the cached model {resolver.cache_path}" in message
    assert "delete that file" in message and truncated.as_uri() in message


def test_an_onnx_model_of_another_shape_is_refused_by_name(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "not_drums",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "frames", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "frames", 64])],
    )
    other = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), other)
    settings = Settings(MODEL_URI=str(other), MODEL_CACHE_DIR=tmp_path / "cache")
    with pytest.raises(ModelUnavailableError, match=r"\['batch', 'frames', 64\].*not a drumscribe-frame model"):
        load_predictor(settings)
    with pytest.raises(ModelUnavailableError, match=r"only 'drumscribe-frame' models run from ONNX"):
        load_predictor(settings.model_copy(update={"MODEL_KIND": "annoteator-cnn"}))
