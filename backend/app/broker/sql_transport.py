"""The embedded broker: kombu's SQLAlchemy transport, with a message row deleted once it is acknowledged.

kombu's own transport marks a delivered message `visible = False` and keeps the row for ever: its acks
are bookkeeping in the consumer's memory. So the table only grows, and a message whose consumer died
before acking stays invisible for good (no visibility timeout brings it back). Here:

- a delivered message's row id is remembered by its delivery tag, and the row is deleted on ack and on
  reject without requeue;
- a reject with requeue, and the restore of unacked messages when a consumer shuts down, make the same
  row visible again instead of adding a copy;
- `requeue_in_flight` makes the invisible rows of some queues visible again, for a supervisor that knows
  their one consumer is dead (`drumscribe serve`).

So the table holds only pending (visible) and in-flight (invisible, unacked) messages.

How it is wired: kombu picks the transport from the text before `+` in the URL (`sqla+sqlite:///...`)
through its alias table, and Celery reads `CELERY_BROKER_URL` from the environment itself, ahead of its
configuration; Celery's `broker_transport` is ignored for such a URL. So `use_for_sqla_urls()` (called by
`app.worker`, which every process imports before it connects: worker, beat and the API) points kombu's
`sqla` and `sqlalchemy` aliases at this transport. `CELERY_BROKER_URL` keeps its meaning: any
`sqla+<SQLAlchemy URL>` works as before, with acked messages deleted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from json import loads
from queue import Empty
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import Engine, MetaData, Table, create_engine, inspect, text

URL_PREFIXES = ("sqla+", "sqlalchemy+")
QUEUE_TABLE = "kombu_queue"
MESSAGE_TABLE = "kombu_message"


class Channel(kombu_sqla.Channel):
    """A channel whose acks delete the message row and whose restores make it visible again."""

    connection: Transport

    def _get(self, queue: str, timeout: float | None = None) -> dict[str, Any]:
        # kombu's _get, plus the row id of the message it hands out.
        owner = self._get_or_create(queue)
        if self.session.bind.name == "sqlite":
            self.session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            row = (
                self.session.query(self.message_cls)
                .with_for_update()
                .filter(self.message_cls.queue_id == owner.id)
                .filter(self.message_cls.visible.isnot(False))
                .order_by(self.message_cls.sent_at)
                .order_by(self.message_cls.id)
                .limit(1)
                .first()
            )
            if row is None:
                raise Empty()
            row.visible = False
            row_id, payload = row.id, loads(bytes_to_str(row.payload))
        finally:
            self.session.commit()
        self.connection.in_flight.remember(payload["properties"]["delivery_tag"], row_id)
        return payload

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        """Acknowledge a message: its row is deleted."""
        self._delete_row(delivery_tag)
        super().basic_ack(delivery_tag, multiple)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        """Reject a message: with requeue its row is visible again (`_restore`), without it is deleted."""
        super().basic_reject(delivery_tag, requeue=requeue)
        if not requeue:
            self._delete_row(delivery_tag)

    def _restore(self, message: Any) -> None:
        row_id = self.connection.in_flight.forget(message.delivery_tag)
        if row_id is None:
            # Not fetched through this connection: kombu's way, a fresh copy.
            super()._restore(message)
            return
        messages = self.message_cls.__table__
        with self._engine.begin() as connection:
            connection.execute(messages.update().where(messages.c.id == row_id).values(visible=True))

    def _delete_row(self, delivery_tag: str) -> None:
        row_id = self.connection.in_flight.forget(delivery_tag)
        if row_id is None:
            return
        messages = self.message_cls.__table__
        # A connection of its own from the engine's pool: acks may come from another thread than the
        # one polling through the channel's session.
        with self._engine.begin() as connection:
            connection.execute(messages.delete().where(messages.c.id == row_id))

    @property
    def _engine(self) -> Engine:
        engine: Engine = self._open()[0]
        return engine


class InFlight:
    """The row id of each message delivered through one connection and not yet acked, by delivery tag."""

    def __init__(self) -> None:
        self._rows: dict[str, int] = {}
        self._lock = threading.Lock()

    def remember(self, delivery_tag: str, row_id: int) -> None:
        """Note that `delivery_tag` was handed out from row `row_id`."""
        with self._lock:
            self._rows[delivery_tag] = row_id

    def forget(self, delivery_tag: str) -> int | None:
        """The row of `delivery_tag`, no longer tracked; None when it is not (or no longer) in flight."""
        with self._lock:
            return self._rows.pop(delivery_tag, None)


class Transport(kombu_sqla.Transport):
    """kombu's SQLAlchemy transport with `Channel` above; one `InFlight` per connection.

    The table of in-flight rows lives on the transport, not the channel: kombu may reject a message
    through another channel of the same connection than the one that fetched it.
    """

    Channel = Channel

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        self.in_flight = InFlight()


def use_for_sqla_urls() -> None:
    """Make kombu (and so Celery) use this transport for `sqla+...` and `sqlalchemy+...` broker URLs."""
    path = f"{__name__}:Transport"
    TRANSPORT_ALIASES["sqla"] = path
    TRANSPORT_ALIASES["sqlalchemy"] = path


def is_sql_broker(broker_url: str) -> bool:
    """True when `broker_url` names kombu's SQLAlchemy transport (and so this one)."""
    return broker_url.startswith(URL_PREFIXES)


def requeue_in_flight(broker_url: str, queues: Iterable[str] | None = None) -> int:
    """Make the delivered, unacked messages of `queues` (None: every queue) deliverable again; returns how many.

    Only for a supervisor that knows no live consumer holds them: a message still being worked on would
    run twice.
    """
    if not is_sql_broker(broker_url):
        raise ValueError(f"requeue_in_flight needs a sqla+ broker URL, not {broker_url!r}")
    database_url = broker_url.split("+", 1)[1]
    # SQLite serialises writers: wait for a worker's write rather than fail (as app.worker's publishes do).
    engine = create_engine(database_url, connect_args={"timeout": 30} if database_url.startswith("sqlite") else {})
    try:
        return _requeue(engine, None if queues is None else list(queues))
    finally:
        engine.dispose()


def _requeue(engine: Engine, queues: list[str] | None) -> int:
    if not inspect(engine).has_table(MESSAGE_TABLE):
        return 0  # no message was ever sent
    metadata = MetaData()
    messages = Table(MESSAGE_TABLE, metadata, autoload_with=engine)
    queue_table = Table(QUEUE_TABLE, metadata, autoload_with=engine)
    statement = messages.update().where(messages.c.visible.is_(False)).values(visible=True)
    if queues is not None:
        ids = queue_table.select().with_only_columns(queue_table.c.id).where(queue_table.c.name.in_(queues))
        statement = statement.where(messages.c.queue_id.in_(ids.scalar_subquery()))
    with engine.begin() as connection:
        return connection.execute(statement).rowcount
