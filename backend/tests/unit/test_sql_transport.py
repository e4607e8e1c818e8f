"""The embedded broker's transport: acked messages leave the table, a dead consumer's message can be requeued."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from kombu import Connection

from app.broker.sql_transport import Transport, requeue_in_flight, use_for_sqla_urls
from tests.integration.stack import BACKEND

use_for_sqla_urls()


def _rows(broker: Path) -> list[tuple[str, bool]]:
    """(queue, visible) of every message row."""
    with sqlite3.connect(broker) as db:
        return [
            (name, bool(visible))
            for name, visible in db.execute(
                "SELECT q.name, m.visible FROM kombu_message m JOIN kombu_queue q ON q.id = m.queue_id ORDER BY m.id"
            )
        ]


def test_celery_gets_this_transport_for_sqla_urls(tmp_path: Path) -> None:
    from app.worker import celery_app

    assert isinstance(Connection(f"sqla+sqlite:///{tmp_path / 'b.sqlite'}").transport, Transport)
    with celery_app.connection_for_write() as connection:
        # The test settings may name Redis; only an sqla URL must get this transport.
        if connection.transport_cls in ("sqla", "sqlalchemy"):
            assert isinstance(connection.transport, Transport)


def test_acked_and_discarded_messages_leave_the_table(tmp_path: Path) -> None:
    broker = tmp_path / "broker.sqlite"
    with Connection(f"sqla+sqlite:///{broker}") as connection:
        queue = connection.SimpleQueue("jobs")
        for number in range(3):
            queue.put({"n": number})
        assert _rows(broker) == [("jobs", True)] * 3
        first = queue.get(timeout=2)
        assert _rows(broker) == [("jobs", False), ("jobs", True), ("jobs", True)]
        first.ack()
        queue.get(timeout=2).reject()
        queue.get(timeout=2).ack()
        queue.close()
    assert _rows(broker) == []


def test_requeued_and_restored_messages_come_back_once(tmp_path: Path) -> None:
    broker = tmp_path / "broker.sqlite"
    with Connection(f"sqla+sqlite:///{broker}") as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"n": 1})
        queue.get(timeout=2).requeue()
        assert _rows(broker) == [("jobs", True)]
        message = queue.get(timeout=2)
        assert message.payload == {"n": 1}
        queue.close()  # an unacked message goes back at close, as at a worker's warm shutdown
    assert _rows(broker) == [("jobs", True)]


def test_a_consumer_killed_before_its_ack_leaves_a_message_only_requeue_in_flight_frees(tmp_path: Path) -> None:
    broker = tmp_path / "broker.sqlite"
    url = f"sqla+sqlite:///{broker}"
    with Connection(url) as connection:
        connection.SimpleQueue("heavy").put({"job": "a"})
        connection.SimpleQueue("light").put({"job": "b"})
    consumer = subprocess.Popen(
        [sys.executable, "-c", _CONSUME_AND_HANG, url],
        cwd=BACKEND, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert consumer.stdout is not None
        assert consumer.stdout.readline().strip() == "got {'job': 'a'}"
    finally:
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(timeout=10)
    assert _rows(broker) == [("heavy", False), ("light", True)]
    with Connection(url) as connection:
        heavy = connection.SimpleQueue("heavy")
        with pytest.raises(heavy.Empty):
            heavy.get(timeout=1.5)  # nobody will ever ack it, and nothing brings it back by itself
        assert requeue_in_flight(url, ["light"]) == 0
        assert requeue_in_flight(url, ["heavy"]) == 1
        message = heavy.get(timeout=2)
        assert message.payload == {"job": "a"}
        message.ack()
        heavy.close()
    assert _rows(broker) == [("light", True)]


def test_requeue_in_flight_on_a_fresh_broker_and_every_queue(tmp_path: Path) -> None:
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    assert requeue_in_flight(url) == 0  # no table yet
    with Connection(url) as connection:
        for name in ("a", "b"):
            queue = connection.SimpleQueue(name)
            queue.put({"q": name})
            queue.get(timeout=2)  # taken and never acked; the channel's restore at close is disabled below
            queue.channel.do_restore = False
    assert requeue_in_flight(url) == 2
    with pytest.raises(ValueError, match="sqla"):
        requeue_in_flight("redis://127.0.0.1:6379/0")


_CONSUME_AND_HANG = textwrap.dedent(
    """
    import sys, time
    from kombu import Connection
    from app.broker.sql_transport import use_for_sqla_urls

    use_for_sqla_urls()
    with Connection(sys.argv[1]) as connection:
        message = connection.SimpleQueue("heavy").get(timeout=10)
        print("got", message.payload, flush=True)
        time.sleep(60)
    """
)
