"""The EDC connector's configuration property names, in one place.

Playbook "EDC Security Configuration" and "Data Access Logging" name these properties.
They follow the connector version the platform runs: newer Tractus-X connectors identify
the participant by a DID and get tokens from a token service whose secret lives in a
vault, so a connector upgrade changes this module and nothing else.

The connector reads every property from its environment as well, with the name upper-cased
and dots turned into underscores (``edc.oauth.client.secret`` -> ``EDC_OAUTH_CLIENT_SECRET``):
credentials are handed over that way from a Kubernetes Secret, so no credential is ever
written into a properties file or a ConfigMap.
"""

from __future__ import annotations

from collections.abc import Mapping

# --- security.properties (ConfigMap edc-security-config) ---------------------------
OAUTH_TOKEN_URL = "edc.oauth.token.url"
OAUTH_CLIENT_ID = "edc.oauth.client.id"
OAUTH_CLIENT_SECRET = "edc.oauth.client.secret"  # credential: Secret, environment only
WEB_HTTPS_PORT = "edc.web.https.port"
WEB_HTTPS_PATH = "edc.web.https.path"
WEB_HTTPS_KEYSTORE_PATH = "edc.web.https.keystore.path"
WEB_HTTPS_KEYSTORE_PASSWORD = "edc.web.https.keystore.password"  # credential: Secret, environment only
DATAPLANE_TOKEN_VALIDATION_ENDPOINT = "edc.dataplane.token.validation.endpoint"
PARTICIPANT_ID = "edc.participant.id"
CONNECTOR_NAME = "edc.connector.name"

# --- audit.properties (ConfigMap edc-audit-config) ---------------------------------
AUDIT_ENABLED = "edc.audit.enabled"
AUDIT_LEVEL = "edc.audit.level"
AUDIT_DATA_ACCESS = "edc.audit.data.access"
AUDIT_CONTRACT_NEGOTIATION = "edc.audit.contract.negotiation"
AUDIT_POLICY_EVALUATION = "edc.audit.policy.evaluation"
AUDIT_FORMAT = "edc.audit.format"
AUDIT_DESTINATION = "edc.audit.destination"
AUDIT_FILE_PATH = "edc.audit.file.path"

CREDENTIAL_PROPERTIES = (OAUTH_CLIENT_SECRET, WEB_HTTPS_KEYSTORE_PASSWORD)

# Playbook values. The keystore is mounted from a Secret at this path; the HTTPS port is
# above 1024 so the connector runs as a non-root user.
WEB_HTTPS_PORT_VALUE = 8443
WEB_HTTPS_PATH_VALUE = "/api"
KEYSTORE_PATH_VALUE = "/etc/ssl/certs/keystore.p12"

# Playbook "Data Access Logging". The audit log is a file: with a read-only root
# filesystem the connector's pod mounts a writable volume at AUDIT_LOG_DIRECTORY, and the
# log shipper reads it from there.
AUDIT_LOG_DIRECTORY = "/var/log/edc"
AUDIT_SETTINGS: Mapping[str, str] = {
    AUDIT_ENABLED: "true",
    AUDIT_LEVEL: "INFO",
    AUDIT_DATA_ACCESS: "true",
    AUDIT_CONTRACT_NEGOTIATION: "true",
    AUDIT_POLICY_EVALUATION: "true",
    AUDIT_FORMAT: "json",
    AUDIT_DESTINATION: "file",
    AUDIT_FILE_PATH: f"{AUDIT_LOG_DIRECTORY}/audit.log",
}


def environment_variable(prop: str) -> str:
    """The environment variable the connector reads ``prop`` from."""
    return prop.upper().replace(".", "_").replace("-", "_")


def properties_file(values: Mapping[str, object]) -> str:
    """A Java properties file, one ``key=value`` per line in the given order.

    Refuses credential properties: they only ever reach the connector from a Secret.
    """
    leaked = [key for key in values if key in CREDENTIAL_PROPERTIES]
    if leaked:
        raise ValueError(f"credential properties {leaked} belong in a Secret, not a properties file")
    return "".join(f"{key}={_text(value)}\n" for key, value in values.items())


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
