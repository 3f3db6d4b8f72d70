"""CAP signing cost: ``.venv/bin/python -m bench.cap_signing --documents 500``.

Per document, the CAP 1.2 rendering alone (the baseline: what the route did before signing)
beside rendering plus the enveloped XML signature (RSA-2048, SHA-256), and a partner's
verification with signxml, in the same run, on the shared example alert (four languages).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from signxml.verifier import XMLVerifier

from alert_engine.cap import to_cap_xml
from alert_engine.cap_signature import CapSigner, development_pair
from shared.alert_contract import AlertMessage
from shared.alert_example import ALERT_MESSAGE_EXAMPLE


def _per_call_ms(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=500)
    args = parser.parse_args()

    message = AlertMessage.model_validate(ALERT_MESSAGE_EXAMPLE)
    key_pem, certificate_pem = development_pair()
    signer = CapSigner.from_pem(key_pem, certificate_pem)
    signed = signer.sign(to_cap_xml(message))
    certificate = certificate_pem.decode()

    rows = [
        ("render (baseline)", _per_call_ms(lambda: to_cap_xml(message), args.documents)),
        ("render + sign", _per_call_ms(lambda: signer.sign(to_cap_xml(message)), args.documents)),
        (
            "verify (partner)",
            _per_call_ms(
                lambda: XMLVerifier().verify(signed, x509_cert=certificate), args.documents
            ),
        ),
    ]
    print(f"CAP documents: {args.documents}, unsigned {len(to_cap_xml(message))} B, "
          f"signed {len(signed)} B")  # fmt: skip
    for name, (median, p95) in rows:
        print(f"{name:<18} median {median:6.2f} ms   p95 {p95:6.2f} ms")


if __name__ == "__main__":
    main()
