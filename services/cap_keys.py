"""Where the CAP signing key and certificate come from (settings, or a development pair).

* Both ``TIFLI_CAP_SIGNING_KEY`` and ``TIFLI_CAP_SIGNING_CERTIFICATE`` set (PEM text or a
  file's path each): they are checked at start-up (RSA of 2048 bits or more, the certificate
  the key's own) and every CAP document is signed.
* Neither, in the embedded mode: a development pair (a self-signed certificate) is created
  beside the SQLite file on first start and kept, so a partner's copy of the certificate
  stays valid across restarts; it is logged as a development certificate.
* Neither, with a server database (production): the API refuses to start. A partner that
  checks signatures would reject every document, and one that does not would be open to
  forgery, so serving CAP unsigned must be a decision: ``TIFLI_CAP_UNSIGNED=true``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.engine import make_url

from alert_engine.cap_signature import CapSigner, SigningKeyError, development_pair
from services.private_files import write_private
from services.refusals import StartRefused
from shared.settings import Settings

log = logging.getLogger(__name__)


def _pem(value: str, setting: str, *, secret: bool) -> bytes:
    """A PEM given as text or as a file's path. A secret's value is never repeated in the
    refusal: a key's body without its armour lines is neither, and would be printed whole."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    path = Path(value)
    try:
        readable = path.is_file()
    except OSError:  # a name too long to be a path: key material, most likely
        readable = False
    if not readable:
        shown = f"a value of {len(value)} characters" if secret else repr(value)
        raise StartRefused(f"{setting}: neither PEM text nor a readable file ({shown})")
    return path.read_bytes()


def _development_signer(database: str) -> CapSigner:
    key_file, certificate_file = Path(database + ".cap-key.pem"), Path(database + ".cap-cert.pem")
    if not (key_file.exists() and certificate_file.exists()):
        key_pem, certificate_pem = development_pair()
        key_file.unlink(missing_ok=True)  # half a pair, from an interrupted start
        write_private(key_file, key_pem)
        certificate_file.write_bytes(certificate_pem)
    signer = CapSigner.from_pem(key_file.read_bytes(), certificate_file.read_bytes())
    log.warning(
        "CAP documents are signed with a development certificate (self-signed, %s): "
        "partners cannot trust it; set TIFLI_CAP_SIGNING_KEY and "
        "TIFLI_CAP_SIGNING_CERTIFICATE in production",
        certificate_file.name,
    )
    return signer


def cap_signer(settings: Settings) -> CapSigner | None:
    """The signer the API serves CAP with; None: CAP is served unsigned (by choice only).
    StartRefused, saying what to set, when the settings cannot sign."""
    key, certificate = settings.cap_signing_key, settings.cap_signing_certificate
    if key and certificate:
        try:
            return CapSigner.from_pem(
                _pem(key, "TIFLI_CAP_SIGNING_KEY", secret=True),
                _pem(certificate, "TIFLI_CAP_SIGNING_CERTIFICATE", secret=False),
            )
        except SigningKeyError as exc:
            raise StartRefused(str(exc)) from None
    if key or certificate:
        raise StartRefused(
            "set both TIFLI_CAP_SIGNING_KEY and TIFLI_CAP_SIGNING_CERTIFICATE, or neither"
        )
    if settings.cap_unsigned:
        log.warning("CAP documents are served unsigned (TIFLI_CAP_UNSIGNED=true)")
        return None
    database = make_url(settings.database_url).database if settings.is_sqlite else None
    if not database or database == ":memory:":
        raise StartRefused(
            "CAP documents are signed: set TIFLI_CAP_SIGNING_KEY and "
            "TIFLI_CAP_SIGNING_CERTIFICATE (PEM text or file paths), or TIFLI_CAP_UNSIGNED=true "
            "to serve them unsigned"
        )
    return _development_signer(database)
