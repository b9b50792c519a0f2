"""Tables of billing: price versions, plans, subscriptions, billing accounts, invoices, and the
durable export of usage to a payment platform."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId, UTCDateTime


class ModelPrice(Base):
    """One version of a model's prices (micro-USD per million tokens), in force from
    `effective_from` until the next version of the same model."""

    __tablename__ = "model_prices"
    __table_args__ = (UniqueConstraint("model", "effective_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    provider: Mapped[str] = mapped_column(String(100), default="")
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    input_micros_per_mtok: Mapped[int] = mapped_column(BigId)
    output_micros_per_mtok: Mapped[int] = mapped_column(BigId)
    cached_input_micros_per_mtok: Mapped[int | None] = mapped_column(BigId, nullable=True)
    cache_write_micros_per_mtok: Mapped[int | None] = mapped_column(BigId, nullable=True)
    max_input_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(300), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    monthly_fee_micros: Mapped[int] = mapped_column(BigId, default=0)
    included_micros: Mapped[int] = mapped_column(BigId, default=0)
    # Percent, exact (12.5 is 12.5 %): customer price = provider cost × (1 + markup / 100).
    markup_percent: Mapped[str] = mapped_column(String(20), default="0")
    # JSON object alias -> percent (a string): replaces markup_percent for that model.
    model_markups: Mapped[str] = mapped_column(Text, default="{}")
    monthly_budget_micros: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TeamSubscription(Base):
    """A team on a plan from `starts_on` to `ends_on` (inclusive; None: still running)."""

    __tablename__ = "team_subscriptions"
    __table_args__ = (Index("ix_team_subscriptions_team_start", "team_id", "starts_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BillingAccount(Base):
    """A team's billing details, its payment-platform customer and its payment status."""

    __tablename__ = "billing_accounts"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(300), default="")
    tax_id: Mapped[str] = mapped_column(String(100), default="")
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    # Usage from the first day of this month on is exported to the payment platform.
    export_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    # active | past_due | cancelled; suspension is past_due for longer than the grace days.
    status: Mapped[str] = mapped_column(String(20), default="active")
    payment_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # An admin lifted the suspension: requests are admitted until the next failed payment.
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentEvent(Base):
    """A payment platform's event, applied once (a replayed event id changes nothing)."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InvoiceCounter(Base):
    """The last invoice number issued: incremented inside the issuing transaction, so the
    sequence has no gaps (a rolled-back invoice takes its number back with it)."""

    __tablename__ = "invoice_counters"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigId, default=0)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_team_period", "team_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Issued invoices only; a draft (the open month) has none until the month is closed.
    number: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    status: Mapped[str] = mapped_column(String(10))  # draft | issued | void
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    # Copied from the billing account when generated: an invoice does not change afterwards.
    bill_to: Mapped[str] = mapped_column(Text, default="{}")
    subtotal_micros: Mapped[int] = mapped_column(BigId)
    rounding_micros: Mapped[int] = mapped_column(BigId)
    total_micros: Mapped[int] = mapped_column(BigId)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # fee | usage | markup | allowance
    description: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(100), nullable=True)
    token_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    quantity: Mapped[int] = mapped_column(BigId)
    # Exact decimal USD per unit (a token's price has more places than a micro-dollar).
    unit_price_usd: Mapped[str] = mapped_column(String(40))
    amount_micros: Mapped[int] = mapped_column(BigId)


class UsageExport(Base):
    """One meter event to send: a usage record's count of one token type. The queue is
    durable: a worker that dies loses nothing, the next one claims the row after its lease."""

    __tablename__ = "usage_exports"
    __table_args__ = (
        UniqueConstraint("usage_id", "token_type"),
        Index("ix_usage_exports_due", "status", "next_attempt_at"),
        Index("ix_usage_exports_team_created", "team_id", "usage_created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    usage_id: Mapped[int] = mapped_column(BigId)
    token_type: Mapped[str] = mapped_column(String(20))
    identifier: Mapped[str] = mapped_column(String(100), unique=True)
    team_id: Mapped[int] = mapped_column(BigId)
    customer_id: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    value: Mapped[int] = mapped_column(BigId)
    usage_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
