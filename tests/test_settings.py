"""Settings: every bad value stops the program naming its key; defaults are secure."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import eks_addons
from components.settings import (
    PORTAL_SERVICES,
    PRODUCTION_MINIMUM_VCPU,
    PRODUCTION_RECOMMENDED_VCPU,
    SECRET_KEYS,
    ApiAccessSettings,
    Secret,
    Settings,
    SettingsError,
    _Reader,
    deploys_nothing,
    example_values,
    parse_settings,
    refuse_example_values,
)
from offline.harness import StackRun, load_stack_config, run_stack


def group(**overrides: Any) -> dict[str, Any]:
    base = {"name": "general", "instanceTypes": ["m6i.2xlarge"], "minSize": 6, "desiredSize": 6, "maxSize": 12}
    return {**base, **overrides}


def raw(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "aws:region": "eu-central-1",
        "role": "primary",
        "environment": "prod",
        "domain": "tractus-x.example.com",
        "nodeGroups": [group()],
        "apiPublicAccessCidrs": ["81.2.69.160/32"],
        "edcParticipantId": "BPNL000000000001",
        "edcParticipantDid": "did:web:wallet.example.com:BPNL000000000001",
        "edcTrustedIssuers": ["did:web:issuer.example.com:BPNL00000000ISSU"],
        "edcStsUrl": "https://wallet.example.com/api/sts",
        "edcStsTokenUrl": "https://wallet.example.com/oauth/token",
        "edcStsClientId": "BPNL000000000001-client",
        "edcStsClientSecret": "client-secret",
        "edcBdrsUrl": "https://bdrs.example.com/api/directory",
        "acmeEmail": "certificates@example.com",
        "alerting": {
            "emailTo": ["platform-team@example.com"],
            "emailFrom": "alerts@example.com",
            "smtpSmarthost": "smtp.example.com:587",
        },
        "pagerdutyRoutingKey": "routing-key",
        "slackWebhookUrl": "https://hooks.slack.com/services/T0/B0/X",
        "smtpPassword": "smtp-password",
        "heartbeatUrl": "https://hc-ping.com/0f6e1f3a-5c1d-4b1e-9a7d-3b0c2f1e4d5a",
        "portalSharedIdpClientSecret": "shared-idp-secret",
        "portalDimClientSecret": "dim-secret",
        "portalClearinghouseClientSecret": "clearinghouse-secret",
        "portalBpnDidResolverApiKey": "resolver-key",
        "dockerHubUsername": "acmeplatform",
        "dockerHubAccessToken": "dckr_pat_token",
        "githubUsername": "acme-platform",
        "githubAccessToken": "ghp_token",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def parse(values: dict[str, Any], stack: str = "prod") -> Settings:
    """As the program reads them: the credential keys stored encrypted."""
    return parse_settings(values, stack, SECRET_KEYS)


def problems(**overrides: Any) -> str:
    with pytest.raises(SettingsError) as error:
        parse(raw(**overrides))
    return str(error.value)


def test_valid_settings_have_secure_defaults() -> None:
    settings = parse(raw(), "prod")
    assert settings.az_count == 3
    # The public endpoint opens to the declared deployers only; nothing is admitted privately.
    assert settings.api_access == ApiAccessSettings(public_cidrs=("81.2.69.160/32",))
    assert settings.deletion_protection is True
    assert settings.log_retention_days == 365
    assert settings.kubernetes_version == "1.35"


def test_a_stack_that_declares_no_way_to_the_kubernetes_api_is_refused_with_the_options() -> None:
    """`pulumi up` creates the platform's Kubernetes objects through the API right after the
    cluster: a stack that declares no way to reach it builds every AWS resource, then stops."""
    message = problems(apiPublicAccessCidrs=[])
    assert "tractusx-platform:apiPublicAccessCidrs: no way to reach the Kubernetes API is declared" in message
    for option in ("apiPublicAccessCidrs", "apiPrivateAccessCidrs", "apiPrivateAccessSecurityGroupIds"):
        assert f"{option}, " in message
    assert problems(apiPublicAccessCidrs=None).count("no way to reach the Kubernetes API") == 1


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({"apiPublicAccessCidrs": ["81.2.69.160/32"]}, ApiAccessSettings(public_cidrs=("81.2.69.160/32",))),
        ({"apiPrivateAccessCidrs": ["10.8.0.0/16"]}, ApiAccessSettings(private_cidrs=("10.8.0.0/16",))),
        (
            {"apiPrivateAccessSecurityGroupIds": ["sg-0123456789abcdef0"]},
            ApiAccessSettings(security_group_ids=("sg-0123456789abcdef0",)),
        ),
    ],
)
def test_any_one_way_to_the_kubernetes_api_is_enough(declared: dict[str, Any], expected: ApiAccessSettings) -> None:
    assert parse(raw(**{"apiPublicAccessCidrs": None, **declared})).api_access == expected


def test_a_supported_kubernetes_version_without_every_add_on_pinned_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unpinned = {version: dict(pins) for version, pins in eks_addons.ADDON_VERSIONS.items()}
    del unpinned["1.35"]["coredns"]
    unpinned["1.35"]["kube-proxy"] = "v1.34.6-eksbuild.13"
    monkeypatch.setattr(eks_addons, "ADDON_VERSIONS", unpinned)
    message = problems()
    assert (
        "tractusx-platform:kubernetesVersion: no coredns version is pinned for Kubernetes 1.35; "
        "pin every add-on for it in components/eks_addons.py"
    ) in message
    assert "kube-proxy v1.34.6-eksbuild.13 is not of the cluster's minor 1.35" in message


def test_values_arrive_as_pulumi_config_strings() -> None:
    config, secret_keys = load_stack_config("prod")
    settings = parse_settings(
        {k.removeprefix("tractusx-platform:"): v for k, v in config.items()},
        "prod",
        {k.removeprefix("tractusx-platform:") for k in secret_keys},
    )
    assert settings.node_groups[0].min_size == 6
    assert settings.az_count == 3


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        ({"azCount": 2}, "tractusx-platform:azCount", "at least 3 availability zones"),
        ({"nodeGroups": [group(minSize=2, desiredSize=2)]}, "nodeGroups[0].minSize", "at least 3 nodes"),
        ({"nodeGroups": [group(maxSize=5)]}, "nodeGroups[0].maxSize", "below minSize 6"),
        ({"nodeGroups": [group(desiredSize=13)]}, "nodeGroups[0].desiredSize", "between minSize and maxSize"),
        ({"vpcCidr": "10.40.0.0/33"}, "tractusx-platform:vpcCidr", "not a CIDR block"),
        ({"vpcCidr": "10.40.0.1/16"}, "tractusx-platform:vpcCidr", "not a CIDR block"),
        ({"vpcCidr": "8.8.0.0/16"}, "tractusx-platform:vpcCidr", "private IPv4 block"),
        ({"serviceCidr": "172.20.0.0/33"}, "tractusx-platform:serviceCidr", "not a CIDR block"),
        ({"serviceCidr": "100.64.0.0/16"}, "tractusx-platform:serviceCidr", "within 10.0.0.0/8, 172.16.0.0/12"),
        ({"serviceCidr": "10.0.0.0/8"}, "tractusx-platform:serviceCidr", "from /12 to /24"),
        ({"serviceCidr": "10.40.0.0/20"}, "tractusx-platform:serviceCidr", "overlaps vpcCidr 10.40.0.0/16"),
        ({"apiPublicAccessCidrs": ["203.0.113.0/33"]}, "apiPublicAccessCidrs", "not a CIDR block"),
        ({"apiPublicAccessCidrs": ["0.0.0.0/0"]}, "apiPublicAccessCidrs", "whole internet"),
        ({"apiPublicAccessCidrs": ["2001:db8::/32"]}, "apiPublicAccessCidrs", "not an IPv4 CIDR block"),
        ({"apiPrivateAccessCidrs": ["0.0.0.0/0"]}, "apiPrivateAccessCidrs", "whole internet"),
        ({"apiPrivateAccessCidrs": ["10.0.0.1/16"]}, "apiPrivateAccessCidrs", "not a CIDR block"),
        ({"apiPrivateAccessSecurityGroupIds": ["runners"]}, "apiPrivateAccessSecurityGroupIds", "not a security group"),
        ({"kubernetesVersion": "1.29"}, "tractusx-platform:kubernetesVersion", "allowed: 1.34, 1.35"),
        ({"kubernetesVersion": "1.36"}, "tractusx-platform:kubernetesVersion", "allowed: 1.34, 1.35"),
        ({"role": "secondary"}, "tractusx-platform:role", "allowed: primary, dr"),
        ({"role": "dr", "environment": "dr"}, "tractusx-platform:primaryStack", "required when role is dr"),
        ({"role": "dr", "environment": "dr", "primaryStack": "prod"}, "primaryStack", "fully qualified"),
        ({"primaryStack": "organization/tractusx-platform/prod"}, "primaryStack", "only allowed when role is dr"),
        ({"aws:region": None}, "aws:region", "is required"),
        ({"domain": "Not A Domain"}, "tractusx-platform:domain", "fully qualified domain name"),
        ({"nodeGroups": [group(instanceTypes=["t3.nano"])]}, "nodeGroups[0].instanceTypes", "not a known"),
        ({"logRetentionDays": 10}, "tractusx-platform:logRetentionDays", "CloudWatch retention"),
        ({"accessPrincipals": {"admin": ["alice"]}}, "accessPrincipals.admin", "not an IAM role or user ARN"),
        ({"accessPrincipals": {"root": []}}, "accessPrincipals.root", "allowed: admin, developer, readonly"),
        ({"deletionProtection": "maybe"}, "deletionProtection", "true or false"),
        ({"nodeGroup": []}, "tractusx-platform:nodeGroup", "unknown setting"),
    ],
)
def test_bad_value_names_key_and_what_is_allowed(overrides: dict[str, Any], key: str, allowed: str) -> None:
    message = problems(**overrides)
    assert key in message
    assert allowed in message


def test_every_problem_is_reported_at_once() -> None:
    error = problems(azCount=2, role="secondary")
    assert "azCount" in error
    assert "role" in error


def test_capacity_below_production_minimum_is_refused_on_any_stack() -> None:
    # Three 4 vCPU nodes: 12 vCPU, below the playbook's 16 vCPU production minimum.
    small = [group(instanceTypes=["m6i.xlarge"], minSize=3, desiredSize=3)]
    overrides = {"role": "dr", "environment": "dr", "primaryStack": "o/tractusx-platform/prod", "nodeGroups": small}
    message = problems(**overrides)
    assert "Production Minimum" in message
    assert f"{PRODUCTION_MINIMUM_VCPU} vCPU" in message


def test_prod_below_recommended_size_is_refused() -> None:
    # Three 8 vCPU nodes: 24 vCPU meets the minimum but not the 32 vCPU recommendation.
    message = problems(nodeGroups=[group(minSize=3, desiredSize=3)])
    assert "Production Recommended" in message
    assert f"{PRODUCTION_RECOMMENDED_VCPU} vCPU" in message


def test_capacity_counts_the_smallest_instance_type_of_a_group() -> None:
    # The autoscaling group may launch any listed type, so the floor uses the smallest.
    mixed = [group(instanceTypes=["m6i.4xlarge", "m6i.large"], minSize=6, desiredSize=6)]
    assert "Production Recommended" in problems(nodeGroups=mixed)


def test_dr_pilot_light_at_production_minimum_is_allowed() -> None:
    pilot = [group(minSize=3, desiredSize=3)]
    settings = parse(
        raw(role="dr", environment="dr", primaryStack="organization/tractusx-platform/prod", nodeGroups=pilot), "dr"
    )
    assert settings.min_vcpu >= PRODUCTION_MINIMUM_VCPU


def test_invalid_settings_stop_the_program_before_any_resource() -> None:
    with pytest.raises(SettingsError) as error:
        run_stack("prod", overrides={"azCount": 2})
    assert "resources registered before the failure: 0" in error.value.__notes__


def test_secret_rotation_defaults_to_one_and_must_be_positive() -> None:
    assert parse(raw(), "prod").secret_rotation == 1
    assert parse(raw(secretRotation="3"), "prod").secret_rotation == 3
    assert "tractusx-platform:secretRotation: is 0" in problems(secretRotation=0)


def test_credentials_must_be_stored_encrypted_and_never_show_in_a_repr() -> None:
    plain_text = _Reader({"alertingKey": "abc"})
    assert plain_text.secret("alertingKey", required=True) is None
    assert "stored in plain text" in plain_text.problems[0]

    missing = _Reader({})
    assert missing.secret("alertingKey", required=True) is None
    assert "pulumi config set --secret tractusx-platform:alertingKey" in missing.problems[0]
    assert _Reader({}).secret("alertingKey", required=False) is None

    encrypted = _Reader({"alertingKey": "abc"}, secret_keys={"alertingKey"})
    secret = encrypted.secret("alertingKey", required=True)
    assert secret is not None and secret.value == "abc" and "abc" not in repr(secret)
    assert encrypted.problems == []


def test_database_defaults_meet_the_playbook_and_keep_two_weeks_of_backups() -> None:
    database = parse(raw()).database
    assert (database.vcpu, database.memory_gib) == (4, 16)
    assert database.backup_retention_days == 14
    assert database.max_allocated_storage_gib > database.allocated_storage_gib >= 100


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        (
            {"instanceClass": "db.t4g.xlarge"},
            "database.instanceClass: 'db.t4g.xlarge' is not a known RDS instance class",
        ),
        ({"instanceClass": "db.r7g.large"}, "db.r7g.large has 2 vCPU / 16 GiB; the playbook's database needs at least"),
        ({"backupRetentionDays": 3}, "database.backupRetentionDays: is 3; allowed 7 to 35"),
        ({"backupRetentionDays": 36}, "database.backupRetentionDays: is 36; allowed 7 to 35"),
        ({"allocatedStorageGiB": 50}, "database.allocatedStorageGiB: is 50; allowed 100"),
        ({"allocatedStorageGiB": 500, "maxAllocatedStorageGiB": 520}, "database.maxAllocatedStorageGiB: is 520"),
        ({"size": "large"}, "database.size: unknown field"),
        ("db.m7g.xlarge", "tractusx-platform:database: must be a YAML/JSON object"),
        (["db.m7g.xlarge"], "tractusx-platform:database: must be an object"),
    ],
)
def test_database_settings_are_refused_naming_the_key(database: Any, expected: str) -> None:
    assert expected in problems(database=database)


def test_database_settings_are_read_from_the_stack() -> None:
    database = parse(
        raw(
            database={
                "instanceClass": "db.r7g.2xlarge",
                "allocatedStorageGiB": 500,
                "maxAllocatedStorageGiB": 2000,
                "backupRetentionDays": 35,
            }
        ),
        "prod",
    ).database
    assert (database.instance_class, database.vcpu, database.memory_gib) == ("db.r7g.2xlarge", 8, 64)
    assert (database.allocated_storage_gib, database.max_allocated_storage_gib) == (500, 2000)
    assert database.backup_retention_days == 35


def test_the_deployments_are_the_charts_not_settings() -> None:
    # The connector's and the portal's Deployments are named by their charts' releases
    # (components.edc, components.portal_values).
    assert "portalDeployment: unknown setting" in problems(portalDeployment="portal")


def test_edc_identity_is_the_dcp_one_with_the_sts_secret_encrypted() -> None:
    edc = parse(raw()).edc
    assert "client-secret" not in repr(edc)
    assert (edc.bpn, edc.did) == ("BPNL000000000001", "did:web:wallet.example.com:BPNL000000000001")
    assert edc.trusted_issuers == ("did:web:issuer.example.com:BPNL00000000ISSU",)
    assert (edc.connector_name, edc.participant_context_id) == ("tractusx-connector-prod",) * 2
    assert (edc.token_signer_key, edc.token_verifier_key) == ("token-signer-private-key", "token-verifier-public-key")
    with pytest.raises(SettingsError) as error:
        parse_settings(raw(), "prod", secret_keys=set())
    assert "edcStsClientSecret: is a credential stored in plain text" in str(error.value)
    message = problems(
        edcParticipantId=None,
        edcParticipantDid="did:key:z6Mk",
        edcTrustedIssuers=[],
        edcStsClientSecret=None,
        edcStsTokenUrl="http://wallet.example.com/t",
        edcBdrsUrl=None,
    )
    assert "edcParticipantId: is required" in message
    assert "edcParticipantDid: 'did:key:z6Mk' is not a did:web DID" in message
    assert "edcTrustedIssuers: must name at least one issuer DID" in message
    assert "pulumi config set --secret tractusx-platform:edcStsClientSecret" in message
    assert "edcStsTokenUrl: 'http://wallet.example.com/t' must be an https:// URL" in message
    assert "edcBdrsUrl: is required" in message
    assert "is not a legal-entity BPN" in problems(edcParticipantId="BPNS000000000001")
    assert "edcTrustedIssuers: 'https://issuer' is not a did:web DID" in problems(edcTrustedIssuers=["https://issuer"])


@pytest.mark.parametrize(
    ("key", "replacement"),
    [
        ("edcOauthClientId", "edcStsClientId"),
        ("edcOauthClientSecret", "edcStsClientSecret"),
        ("edcOauthTokenUrl", "edcStsTokenUrl"),
        ("edcTokenValidationUrl", "edcTrustedIssuers"),
        ("edcKeystorePassword", "edcTokenSignerKey"),
        ("edcControlPlaneDeployment", "edc-controlplane"),
    ],
)
def test_a_playbook_era_edc_setting_names_what_replaced_it(key: str, replacement: str) -> None:
    message = problems(**{key: "old"})
    assert f"tractusx-platform:{key}: is no longer used; it was replaced by" in message
    assert replacement in message


def test_alerting_channels_are_required_in_production_and_named_when_missing() -> None:
    message = problems(pagerdutyRoutingKey=None, slackWebhookUrl=None, smtpPassword=None)
    for key in ("pagerdutyRoutingKey", "slackWebhookUrl", "smtpPassword"):
        assert f"tractusx-platform:{key}: is required" in message
    assert "tractusx-platform:alerting: is required" in problems(alerting=None)


@pytest.mark.parametrize(
    ("alerting", "key"),
    [
        ({"emailTo": [], "emailFrom": "alerts@example.com", "smtpSmarthost": "smtp.example.com:587"}, "emailTo"),
        ({"emailTo": ["not-an-address"], "emailFrom": "a@example.com", "smtpSmarthost": "smtp.example.com:587"},
         "emailTo"),
        ({"emailTo": ["a@example.com"], "emailFrom": "a@example.com", "smtpSmarthost": "smtp.example.com"},
         "smtpSmarthost"),
        ({"emailTo": ["a@example.com"], "emailFrom": "a@example.com", "smtpSmarthost": "smtp.example.com:587",
          "slackChannel": "alerts"}, "slackChannel"),
        ({"emailTo": ["a@example.com"], "emailFrom": "a@example.com", "smtpSmarthost": "smtp.example.com:587",
          "pagerduty": "x"}, "pagerduty"),
    ],
)  # fmt: skip
def test_bad_alerting_settings_name_their_key(alerting: dict[str, Any], key: str) -> None:
    assert f"tractusx-platform:alerting.{key}" in problems(alerting=alerting)


def test_credentials_outside_production_are_optional_and_never_plain_text() -> None:
    settings = parse(raw(environment="staging", pagerdutyRoutingKey=None, slackWebhookUrl=None, smtpPassword=None))
    assert settings.alerting is not None and settings.alerting.pagerduty_routing_key is None
    with pytest.raises(SettingsError, match="pagerdutyRoutingKey: is a credential stored in plain text"):
        parse_settings(raw(), "prod", set(SECRET_KEYS) - {"pagerdutyRoutingKey"})
    assert "tractusx-platform:acmeEmail" in problems(acmeEmail="certificates")


def test_production_needs_its_heartbeat_and_its_health_checks_page() -> None:
    """The dead man's switch always; the health check's page where there is a health
    check (a hosted zone); both are credentials, refused in plain text."""
    assert "tractusx-platform:heartbeatUrl: is required" in problems(heartbeatUrl=None)
    settings = parse(raw())
    assert settings.alerting is not None and settings.alerting.pagerduty_cloudwatch_url is None
    zone = {"hostedZoneId": "Z0123456789ABCDEFGHIJ"}
    assert "tractusx-platform:pagerdutyCloudwatchUrl: is required" in problems(dns=zone)
    url = "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue"
    settings = parse(raw(dns=zone, pagerdutyCloudwatchUrl=url))
    assert settings.alerting is not None and settings.alerting.pagerduty_cloudwatch_url == Secret(url)
    staging = parse(raw(environment="staging", dns=zone, heartbeatUrl=None))
    assert staging.alerting is not None
    assert (staging.alerting.heartbeat_url, staging.alerting.pagerduty_cloudwatch_url) == (None, None)
    for key in ("heartbeatUrl", "pagerdutyCloudwatchUrl"):
        with pytest.raises(SettingsError, match=f"{key}: is a credential stored in plain text"):
            parse_settings(raw(dns=zone, pagerdutyCloudwatchUrl=url), "prod", set(SECRET_KEYS) - {key})


PORTAL_ON = {
    "enabled": True,
    "operatorBpn": "BPNL000000000001",
    "operatorName": "Example Operator",
    "services": {service: f"https://{service.lower()}.example.org" for service in PORTAL_SERVICES},
}


def test_the_portal_is_off_by_default_and_needs_its_operator_services_and_credentials_when_on() -> None:
    assert parse(raw()).portal is None
    assert parse(raw(portal={"enabled": False})).portal is None
    portal = parse(raw(portal=PORTAL_ON)).portal
    assert portal is not None
    assert portal.operator_bpn == "BPNL000000000001"
    assert set(portal.services) == set(PORTAL_SERVICES)
    assert "shared-idp-secret" not in repr(portal)
    assert portal.shared_idp_client_secret.value == "shared-idp-secret"
    broken = {**PORTAL_ON, "operatorBpn": "12", "services": {"sharedidp": "http://idp.example.org"}, "color": "x"}
    found = problems(portal=broken)
    assert "portal.operatorBpn: '12' is not the operator's legal-entity BPN" in found
    assert "portal.services.sharedidp: 'http://idp.example.org' must be the service's https:// URL" in found
    assert "portal.services.dim: None must be the service's https:// URL" in found
    assert "portal.color: unknown field" in found
    assert "portal.enabled: must be true or false" in problems(portal={"enabled": "yes"})


def test_the_portals_outside_credentials_are_encrypted_config_and_it_mails_through_the_relay() -> None:
    plain = raw(portal=PORTAL_ON, portalDimClientSecret="in-plain-text")
    with pytest.raises(SettingsError, match="portalDimClientSecret: is a credential stored in plain text"):
        parse_settings(plain, "prod", [k for k in SECRET_KEYS if k != "portalDimClientSecret"])
    missing = raw(portal=PORTAL_ON)
    del missing["portalBpnDidResolverApiKey"]
    with pytest.raises(SettingsError, match="portalBpnDidResolverApiKey: is required"):
        parse(missing)
    without_relay = raw(portal=PORTAL_ON, environment="staging")
    del without_relay["smtpPassword"]
    with pytest.raises(SettingsError, match="smtpPassword: is required when the portal is enabled"):
        parse(without_relay)


def test_the_image_caches_upstream_accounts_are_required_and_their_tokens_encrypted() -> None:
    """Docker Hub and GitHub Container Registry pull-through cache rules need an account."""
    settings = parse(raw())
    assert settings.registry_credentials["dockerHub"].username == "acmeplatform"
    assert settings.registry_credentials["github"].access_token.value == "ghp_token"
    assert "ghp_token" not in repr(settings)
    assert "dockerHubUsername: is required" in problems(dockerHubUsername=None)
    assert "githubAccessToken: is required: set it with `pulumi config set --secret" in problems(githubAccessToken=None)
    assert "githubUsername: 'acme platform' is not a registry user name" in problems(githubUsername="acme platform")
    with pytest.raises(SettingsError, match="dockerHubAccessToken: is a credential stored in plain text"):
        parse_settings(raw(), "prod", set(SECRET_KEYS) - {"dockerHubAccessToken"})


def test_an_environment_too_long_for_the_image_caches_prefixes_is_refused() -> None:
    """ECR allows 30 characters for a pull-through cache prefix: tx-<environment>/docker-hub."""
    assert parse(raw(environment="a" * 16)).name_prefix == f"tx-{'a' * 16}"
    assert "environment: 'aaaaaaaaaaaaaaaaa' is longer than 16 characters" in problems(environment="a" * 17)


def _stack_file_config(stack: str) -> dict[str, str]:
    config, _ = load_stack_config(stack)
    return {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("tractusx-platform:")}


def test_the_stack_files_example_values_are_all_found() -> None:
    keys = [line.split(":", 1)[0] for line in example_values(_stack_file_config("prod"))]
    assert keys == [
        "accessPrincipals",
        "acmeEmail",
        "alerting",
        "apiPublicAccessCidrs",
        "dockerHubUsername",
        "domain",
        "edcBdrsUrl",
        "edcParticipantDid",
        "edcStsTokenUrl",
        "edcStsUrl",
        "edcTrustedIssuers",
        "githubUsername",
    ]
    own = {
        "domain": "tractus-x.acme-corp.eu",
        "acmeEmail": "pki@acme-corp.eu",
        "alerting": '{"emailTo": ["sre@acme-corp.eu"]}',
    }
    assert example_values(own) == []


def test_principals_in_the_documentations_example_accounts_are_example_values() -> None:
    """The stack files declare the CI and on-call admin roles in AWS's documentation
    account: nobody can assume them, so `pulumi up` refuses them until replaced."""
    found = example_values(
        {
            "accessPrincipals": json.dumps(
                {
                    "admin": ["arn:aws:iam::111122223333:role/ci", "arn:aws:iam::210987654321:role/on-call"],
                    "readonly": ["arn:aws:iam::123456789012:user/auditor"],
                }
            )
        }
    )
    assert found == ["accessPrincipals: arn:aws:iam::111122223333:role/ci, arn:aws:iam::123456789012:user/auditor"]


def test_addresses_in_the_documentation_blocks_are_example_values() -> None:
    """RFC 5737 / RFC 3849 blocks are nobody's network: a deployer CIDR from one opens the
    API to no deployer, so `pulumi up` refuses it like an example domain."""
    found = example_values(
        {
            "apiPublicAccessCidrs": '["81.2.69.160/32", "203.0.113.0/24"]',
            "apiPrivateAccessCidrs": '["10.8.0.0/16", "198.51.100.0/25"]',
            "vpcCidr": "10.40.0.0/16",
        }
    )
    assert found == [
        "apiPrivateAccessCidrs: 198.51.100.0/25",
        "apiPublicAccessCidrs: 203.0.113.0/24",
    ]


def test_a_deployment_with_example_values_stops_and_lists_every_one() -> None:
    examples = example_values({"domain": "tractus-x.example.com", "acmeEmail": "certificates@example.org"})
    with pytest.raises(SettingsError) as raised:
        refuse_example_values(examples, offline=False)
    assert raised.value.problems == [
        "acmeEmail: certificates@example.org is an example value; set the stack's own",
        "domain: tractus-x.example.com is an example value; set the stack's own",
    ]
    refuse_example_values(examples, offline=True)  # the offline plan only notes them


def test_the_offline_plan_runs_under_mocks_and_a_deployment_does_not(prod: StackRun) -> None:
    assert deploys_nothing() is True
