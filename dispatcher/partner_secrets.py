"""Which of a partner's secrets sign a message now: shared by deliveries and test events."""

from __future__ import annotations

from datetime import datetime

from dispatcher.models import Partner
from shared.sealing import Sealer


def signing_secrets(partner: Partner, now: datetime, sealer: Sealer) -> list[str]:
    """The secrets that sign now, newest first, opened: the previous one too while a
    rotation's overlap lasts, so the partner can switch without losing a message."""
    sealed = [partner.secret]
    if (
        partner.previous_secret
        and partner.previous_secret_until
        and now < partner.previous_secret_until
    ):
        sealed.append(partner.previous_secret)
    return [sealer.unseal_text(s) for s in sealed]
