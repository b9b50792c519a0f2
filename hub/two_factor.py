"""TOTP second factors of members (RFC 6238 through pyotp) and the team rule that makes them
mandatory for dashboard sign-in.

A factor is begun (a fresh secret, encrypted with the hub's secret key), then confirmed with
a first code; only a confirmed factor signs in. Every accepted code moves the member's
`last_step` forward in one conditional UPDATE, so a code is good once, even when two sign-ins
race with it. Recovery codes are shown once, at confirmation, and kept only as hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.errors import BadRequest, NotFound
from hub.store.ledger_tables import Member, Team
from hub.store.secretbox import SecretBox
from hub.store.signin_tables import TotpFactor, TwoFactorRule

STEP_S = 30
RECOVERY_CODES = 10
# A code of the step before or after the current one is accepted too: phones drift.
DRIFT_STEPS = 1


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A begun, unconfirmed factor: what the authenticator app needs."""

    secret: str  # base32, for typing in by hand
    uri: str  # otpauth://totp/..., for the QR code


@dataclass(frozen=True, slots=True)
class FactorState:
    enrolled: bool  # a confirmed factor
    required: bool  # the member's team requires one
    recovery_left: int = 0


class TwoFactor:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        secrets_box: SecretBox,
        *,
        issuer: str = "UniLLM Hub",
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._box = secrets_box
        self._issuer = issuer

    async def state(self, member: Member) -> FactorState:
        async with self._sessions() as session:
            factor = await session.get(TotpFactor, member.id)
            required = await session.scalar(
                select(TwoFactorRule.required).where(TwoFactorRule.team_id == member.team_id)
            )
        enrolled = factor is not None and factor.confirmed_at is not None
        left = len(factor.recovery_hashes.split()) if factor is not None and enrolled else 0
        return FactorState(enrolled=enrolled, required=bool(required), recovery_left=left)

    async def enrolled(self, team: Team) -> set[int]:
        """The ids of the team's members with a confirmed factor."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(TotpFactor.member_id)
                .join(Member, Member.id == TotpFactor.member_id)
                .where(Member.team_id == team.id, TotpFactor.confirmed_at.is_not(None))
            )
            return set(found)

    async def required(self, team: Team) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(TwoFactorRule.required).where(TwoFactorRule.team_id == team.id)
            )
        return bool(found)

    async def require(self, team: Team, required: bool) -> None:
        """Make a second factor mandatory for the team's members (or not)."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            rule = await session.get(TwoFactorRule, team.id, with_for_update=True)
            before = bool(rule and rule.required)
            if rule is None:
                session.add(TwoFactorRule(team_id=team.id, required=required, updated_at=now))
            else:
                rule.required = required
                rule.updated_at = now
            await audit.record(
                session,
                now=now,
                action="team.two_factor",
                team_id=team.id,
                target=f"team:{team.id}",
                before={"required": before},
                after={"required": required},
            )

    async def begin(self, member: Member) -> Enrolment:
        """A new secret for the member (replacing an unconfirmed one); refused when a
        confirmed factor exists (remove it first)."""
        secret = pyotp.random_base32()
        async with self._sessions.begin() as session:
            factor = await session.get(TotpFactor, member.id, with_for_update=True)
            if factor is not None and factor.confirmed_at is not None:
                raise BadRequest("Two-factor sign-in is already set up; remove it first.")
            if factor is None:
                factor = TotpFactor(member_id=member.id, created_at=self._clock.now())
                session.add(factor)
            factor.secret_encrypted = self._box.encrypt(secret)
            factor.last_step = 0
            factor.recovery_hashes = ""
        return self._enrolment(member, secret)

    async def pending(self, member: Member) -> Enrolment | None:
        """The begun, unconfirmed factor, to show its QR code again."""
        async with self._sessions() as session:
            factor = await session.get(TotpFactor, member.id)
        if factor is None or factor.confirmed_at is not None:
            return None
        return self._enrolment(member, self._box.decrypt(factor.secret_encrypted))

    async def confirm(self, member: Member, code: str) -> list[str]:
        """Confirm the begun factor with a code from the app; the recovery codes, once."""
        async with self._sessions() as session:
            factor = await session.get(TotpFactor, member.id)
        if factor is None or factor.confirmed_at is not None:
            raise NotFound("There is no two-factor set-up waiting for a code; start again.")
        step = self._matching_step(self._box.decrypt(factor.secret_encrypted), code)
        if step is None:
            raise BadRequest("That code is not the one the app shows now; try the next one.")
        codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
        now = self._clock.now()
        async with self._sessions.begin() as session:
            done = await session.execute(
                update(TotpFactor)
                .where(
                    TotpFactor.member_id == member.id,
                    TotpFactor.confirmed_at.is_(None),
                    TotpFactor.secret_encrypted == factor.secret_encrypted,
                )
                .values(
                    confirmed_at=now,
                    last_step=step,
                    recovery_hashes=" ".join(_hash(c) for c in codes),
                )
            )
            if _rows(done) != 1:
                raise BadRequest("The set-up changed meanwhile; start again.")
            await audit.record(
                session,
                now=now,
                action="member.two_factor",
                team_id=member.team_id,
                target=f"member:{member.id}",
                after={"enrolled": True},
            )
        return codes

    async def verify(self, member: Member, code: str) -> bool:
        """Whether `code` is the member's current TOTP code (not used before) or one of their
        recovery codes (used up by this)."""
        async with self._sessions() as session:
            factor = await session.get(TotpFactor, member.id)
        if factor is None or factor.confirmed_at is None:
            return False
        digits = code.replace(" ", "")
        if digits.isdigit():
            step = self._matching_step(self._box.decrypt(factor.secret_encrypted), digits)
            if step is None or step <= factor.last_step:
                return False  # wrong, or replayed
            async with self._sessions.begin() as session:
                done = await session.execute(
                    update(TotpFactor)
                    .where(TotpFactor.member_id == member.id, TotpFactor.last_step < step)
                    .values(last_step=step)
                )
            return _rows(done) == 1  # 0: another sign-in used this code (or a later one) first
        return await self._use_recovery_code(member, factor, code)

    async def remove(self, member: Member) -> None:
        async with self._sessions.begin() as session:
            factor = await session.get(TotpFactor, member.id, with_for_update=True)
            if factor is None:
                return
            await session.delete(factor)
            await audit.record(
                session,
                now=self._clock.now(),
                action="member.two_factor",
                team_id=member.team_id,
                target=f"member:{member.id}",
                before={"enrolled": factor.confirmed_at is not None},
                after={"enrolled": False},
            )

    async def _use_recovery_code(self, member: Member, factor: TotpFactor, code: str) -> bool:
        wanted = _hash(code)
        hashes = factor.recovery_hashes.split()
        if not any(hmac.compare_digest(wanted, h) for h in hashes):
            return False
        left = " ".join(h for h in hashes if h != wanted)
        async with self._sessions.begin() as session:
            done = await session.execute(
                update(TotpFactor)
                .where(
                    TotpFactor.member_id == member.id,
                    TotpFactor.recovery_hashes == factor.recovery_hashes,
                )
                .values(recovery_hashes=left)
            )
            if _rows(done) != 1:
                return False  # used by a sign-in racing this one
            await audit.record(
                session,
                now=self._clock.now(),
                action="member.recovery_code",
                team_id=member.team_id,
                target=f"member:{member.id}",
                after={"left": len(left.split())},
            )
        return True

    def _matching_step(self, secret: str, code: str) -> int | None:
        """The time step whose code `code` is, within the allowed drift; None if none."""
        code = code.replace(" ", "")
        if len(code) != 6 or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret, interval=STEP_S)
        now = int(self._clock.now().timestamp()) // STEP_S
        for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.at(step * STEP_S), code):
                return step
        return None

    def _enrolment(self, member: Member, secret: str) -> Enrolment:
        uri = pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(
            name=member.name, issuer_name=self._issuer
        )
        return Enrolment(secret=secret, uri=uri)


def _recovery_code() -> str:
    # 80 random bits: a plain SHA-256 of it cannot be searched backwards.
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _hash(code: str) -> str:
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(b"recovery:" + normal.encode()).hexdigest()


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
