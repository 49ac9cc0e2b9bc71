"""The EDC connector's configuration properties: the playbook's names and today's, in one place.

Playbook "EDC Security Configuration" and "Data Access Logging" configure a connector of
the generation before the Decentralized Claims Protocol (DCP): an OAuth client at a central
identity provider, a TLS keystore in the connector, a token validation endpoint and an
audit-log file. Tractus-X EDC 0.12 (the tractusx-connector chart the platform runs)
identifies the participant by a DID and a BPN, gets self-issued tokens from its wallet's
Secure Token Service (STS) with a client secret kept in Vault, trusts credential issuers
by DID and resolves partners' BPNs to DIDs at the BPN-DID Resolution Service (BDRS).

``REMAPPED`` maps each playbook property to the property that took its place, or to none
with the reason. The chart sets the properties (as environment variables) from its values
(components/connector_values.py), the settings feed those (components/settings.py
``EdcSettings``), and the README's table is this mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Remapped:
    """What took the place of a playbook property: ``new`` (None: nothing does) and why."""

    new: str | None
    setting: str | None  # the platform setting that feeds it
    note: str


# --- today's properties (Tractus-X EDC 0.12, as the chart sets them) ----------------------
PARTICIPANT_ID = "edc.participant.id"  # the participant's DID
PARTICIPANT_BPN = "tractusx.edc.participant.bpn"
PARTICIPANT_CONTEXT_ID = "edc.participant.context.id"
STS_OAUTH_TOKEN_URL = "edc.iam.sts.oauth.token.url"
STS_OAUTH_CLIENT_ID = "edc.iam.sts.oauth.client.id"
STS_OAUTH_CLIENT_SECRET_ALIAS = "edc.iam.sts.oauth.client.secret.alias"
PROTOCOL_PORT = "web.http.protocol.port"
PROTOCOL_PATH = "web.http.protocol.path"
TOKEN_SIGNER_ALIAS = "edc.transfer.proxy.token.signer.privatekey.alias"
TOKEN_VERIFIER_ALIAS = "edc.transfer.proxy.token.verifier.publickey.alias"
# The event subscriber extension (tractusx-edc "Event Subscriber Extension"; off by default).
EVENTS_SUBSCRIBER_ACTIVE = "tx.edc.otel.events.subscriber.active"
EVENTS_ENDPOINT = "tx.edc.otel.events.endpoint"
SERVICE_NAME = "tx.edc.otel.service.name"

REMAPPED: Mapping[str, Remapped] = {
    # security.properties (playbook ConfigMap edc-security-config)
    "edc.oauth.token.url": Remapped(
        STS_OAUTH_TOKEN_URL, "edcStsTokenUrl", "the OAuth endpoint that grants access to the wallet's STS"
    ),
    "edc.oauth.client.id": Remapped(STS_OAUTH_CLIENT_ID, "edcStsClientId", "the connector's client at the STS"),
    "edc.oauth.client.secret": Remapped(
        STS_OAUTH_CLIENT_SECRET_ALIAS,
        "edcStsClientSecret",
        "the secret is written into Vault; the connector gets its alias and reads it from Vault",
    ),
    "edc.web.https.port": Remapped(
        PROTOCOL_PORT, None, "the DSP endpoint (8084) behind the ingress controller, which terminates TLS"
    ),
    "edc.web.https.path": Remapped(PROTOCOL_PATH, None, "the DSP path /api/v1/dsp"),
    "edc.web.https.keystore.path": Remapped(
        None, None, "TLS ends at the ingress controller with a Let's Encrypt certificate from cert-manager"
    ),
    "edc.web.https.keystore.password": Remapped(None, None, "no keystore in the connector (see keystore.path)"),
    "edc.dataplane.token.validation.endpoint": Remapped(
        TOKEN_VERIFIER_ALIAS,
        "edcTokenVerifierKey",
        "the data plane verifies its access tokens itself with a key in Vault (and signs them with "
        f"{TOKEN_SIGNER_ALIAS}, setting edcTokenSignerKey); partners' identity tokens are verified "
        "against their DID documents and the trusted issuers (edcTrustedIssuers)",
    ),
    "edc.participant.id": Remapped(
        PARTICIPANT_ID,
        "edcParticipantDid",
        f"now the participant's DID; the BPN it used to hold is {PARTICIPANT_BPN} (edcParticipantId)",
    ),
    "edc.connector.name": Remapped(
        PARTICIPANT_CONTEXT_ID,
        "edcParticipantContextId",
        "the id of this connector instance (default: edcConnectorName)",
    ),
    # audit.properties (playbook ConfigMap edc-audit-config, "Data Access Logging")
    **{
        prop: Remapped(
            EVENTS_SUBSCRIBER_ACTIVE,
            None,
            "Tractus-X EDC has no audit-log file. Its event subscriber extension sends every domain event "
            f"(contract negotiations, transfers, policy decisions) to an OpenTelemetry collector ({EVENTS_ENDPOINT}, "
            f"the collector's OTLP/HTTP logs endpoint; {SERVICE_NAME}); it is off here, as the platform runs no "
            "OpenTelemetry collector: the events are in the console log (collected from the pods' logs) and every "
            "DSP and data request is measured by the OpenTelemetry agent (job tractus-x-edc in Prometheus)",
        )
        for prop in (
            "edc.audit.enabled",
            "edc.audit.level",
            "edc.audit.data.access",
            "edc.audit.contract.negotiation",
            "edc.audit.policy.evaluation",
            "edc.audit.format",
            "edc.audit.destination",
            "edc.audit.file.path",
        )
    },
}
