"""The certificate partners check CAP signatures with: public, like the documents' authors."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from alert_engine.dependencies import Signer
from shared.problem_schema import problem_responses
from shared.problems import Problem

router = APIRouter(prefix="/v1/cap", tags=["alerts"])
# RFC 8555 §9.1's registered type for PEM certificates.
PEM_CERTIFICATE = "application/pem-certificate-chain"
_EXAMPLE = "-----BEGIN CERTIFICATE-----\nMIIDKDCCAhCgAwIBAgIUAw+6fg8C…\n-----END CERTIFICATE-----\n"


@router.get(
    "/certificate",
    response_class=Response,
    responses={
        200: {
            "description": "The X.509 certificate, PEM.",
            "content": {PEM_CERTIFICATE: {"schema": {"type": "string"}, "example": _EXAMPLE}},
        },
        **problem_responses(404),
    },
    operation_id="alerts_certificate",
    summary="The certificate that signs CAP documents",
)
async def cap_certificate(signer: Signer) -> Response:
    """The X.509 certificate (PEM) whose key signs every CAP document (`GET
    /v1/alerts/{alert_id}/cap`): an enveloped XML digital signature, RSA-SHA256, as the last
    child of `<alert>`. Fetch it once over HTTPS and keep it; a document whose signature does
    not verify with it is not Tifli's. No key needed. A deployment that serves CAP unsigned
    (a choice its operator made) answers 404.
    """
    if signer is None:
        raise Problem(404, "Not found", "This deployment serves CAP documents unsigned.")
    return Response(signer.certificate_pem, media_type=PEM_CERTIFICATE)
