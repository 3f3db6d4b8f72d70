"""CAP documents signed with an enveloped XML digital signature (XMLDSig, RSA-SHA256), as IPAWS
requires of the CAP it accepts: a partner checks a document with the deployment's certificate
(``GET /v1/cap/certificate``) before trusting it. No I/O: the key pair comes in as PEM.

The signature is the last child of ``<alert>``, where the CAP 1.2 schema allows elements of the
XMLDSig namespace; its single reference (``URI=""``) covers the whole document less the
signature itself, after exclusive canonicalisation, so any changed byte of content fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

# RSA below 2048 bits is refused: IPAWS and current guidance (NIST SP 800-131A) ask at least that.
MIN_KEY_BITS = 2048
DEVELOPMENT_SUBJECT = "Tifli development CAP signing (not for production)"


class SigningKeyError(ValueError):
    """A key or certificate that cannot sign CAP: the message says which and why."""


@dataclass(frozen=True)
class CapSigner:
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def from_pem(cls, key_pem: bytes, certificate_pem: bytes) -> CapSigner:
        """SigningKeyError unless the key is RSA (≥ 2048 bits) and the certificate its own."""
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(
                f"the CAP signing key is not an unencrypted PEM key: {exc}"
            ) from None
        try:
            certificate = x509.load_pem_x509_certificate(certificate_pem)
        except ValueError as exc:
            raise SigningKeyError(f"the CAP signing certificate is not PEM X.509: {exc}") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SigningKeyError("the CAP signing key must be RSA (signatures are RSA-SHA256)")
        if key.key_size < MIN_KEY_BITS:
            raise SigningKeyError(f"the CAP signing key has {key.key_size} bits; {MIN_KEY_BITS}+")
        if certificate.public_key() != key.public_key():
            raise SigningKeyError("the CAP signing certificate is not the signing key's")
        return cls(key, certificate)

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def certificate_digest(self) -> bytes:
        """SHA-256 of the certificate: with a document, it decides the signed bytes (RSA
        PKCS#1 v1.5 over a canonical form signs the same input the same way)."""
        return self.certificate.fingerprint(hashes.SHA256())

    def sign(self, document: bytes) -> bytes:
        """``document`` (a CAP ``<alert>``) with its enveloped signature, UTF-8."""
        signer = XMLSigner(
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        root = etree.fromstring(document, parser=etree.XMLParser(resolve_entities=False))
        signed = signer.sign(root, key=self.private_key, cert=[self.certificate])
        return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def development_pair(now: datetime | None = None) -> tuple[bytes, bytes]:
    """A new RSA key and a self-signed certificate for it (PEM each), for the embedded mode:
    partners of a real deployment need a certificate they have reason to trust."""
    now = now or datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=MIN_KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEVELOPMENT_SUBJECT)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)
