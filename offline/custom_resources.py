"""Schemas for the custom resources the platform creates, taken from their CRDs.

kubernetes-validate knows only the built-in API. A custom resource is checked here
against the OpenAPI schema of its CRD, trimmed to what decides whether the API server
accepts the object: required fields, their types and enums. Each entry names the CRD
(and the chart version it ships with) it was taken from. A custom resource whose kind
has no entry is a finding, so a new kind cannot slip through unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema


@dataclass(frozen=True)
class CustomResourceSchema:
    source: str  # the CRD and the chart version it ships with
    schema: Mapping[str, Any]  # the CRD's openAPIV3Schema, trimmed as above


_HPA_SCALING_RULES = {
    "type": "object",
    "properties": {
        "policies": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["periodSeconds", "type", "value"],
                "properties": {
                    "periodSeconds": {"type": "integer"},
                    "type": {"type": "string"},
                    "value": {"type": "integer"},
                },
            },
        },
        "selectPolicy": {"type": "string"},
        "stabilizationWindowSeconds": {"type": "integer", "minimum": 0, "maximum": 3600},
    },
}

# KEDA ScaledObject (keda.sh/v1alpha1), from the CRD the KEDA chart installs:
# kedacore/charts keda/templates/crds/crd-scaledobjects.yaml (read at commit 1b607d9,
# controller-gen v0.16.5); the pinned chart 2.20.2 serves the same v1alpha1 version.
_SCALED_OBJECT = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "properties": {
                "advanced": {
                    "type": "object",
                    "properties": {
                        "horizontalPodAutoscalerConfig": {
                            "type": "object",
                            "properties": {
                                "behavior": {
                                    "type": "object",
                                    "properties": {"scaleDown": _HPA_SCALING_RULES, "scaleUp": _HPA_SCALING_RULES},
                                },
                                "name": {"type": "string"},
                            },
                        },
                        "restoreToOriginalReplicaCount": {"type": "boolean"},
                    },
                },
                "cooldownPeriod": {"type": "integer"},
                "fallback": {
                    "type": "object",
                    "required": ["failureThreshold", "replicas"],
                    "properties": {"failureThreshold": {"type": "integer"}, "replicas": {"type": "integer"}},
                },
                "idleReplicaCount": {"type": "integer"},
                "initialCooldownPeriod": {"type": "integer"},
                "maxReplicaCount": {"type": "integer"},
                "minReplicaCount": {"type": "integer"},
                "pollingInterval": {"type": "integer"},
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "envSourceContainerName": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
                "triggers": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["metadata", "type"],
                        "properties": {
                            "authenticationRef": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"kind": {"type": "string"}, "name": {"type": "string"}},
                            },
                            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                            "metricType": {"type": "string"},
                            "name": {"type": "string"},
                            "type": {"type": "string"},
                            "useCachedMetrics": {"type": "boolean"},
                        },
                    },
                },
            },
        }
    },
}

_DURATION = {
    "type": "string",
    "pattern": "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}
_PROMETHEUS_RULE = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "interval": _DURATION,
                            "rules": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["expr"],
                                    "properties": {
                                        "alert": {"type": "string"},
                                        "record": {"type": "string"},
                                        "expr": {"type": ["string", "integer"]},
                                        "for": _DURATION,
                                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                                    },
                                },
                            },
                        },
                    },
                }
            },
        }
    },
}
_PROBE = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "jobName": {"type": "string"},
                "interval": _DURATION,
                "module": {"type": "string"},
                "prober": {
                    "type": "object",
                    "required": ["url"],
                    "properties": {
                        "url": {"type": "string", "minLength": 1},
                        "scheme": {"type": "string", "enum": ["http", "https", "HTTP", "HTTPS"]},
                    },
                },
                "targets": {
                    "type": "object",
                    "properties": {
                        "staticConfig": {
                            "type": "object",
                            "properties": {"static": {"type": "array", "items": {"type": "string"}}},
                        }
                    },
                },
            },
        }
    },
}
# ServiceMonitor (monitoring.coreos.com/v1), from monitoring.coreos.com_servicemonitors.yaml
# of prometheus-operator v0.77.1 as kube-prometheus-stack's crds subchart ships it (read at
# commit 0001b62): spec requires endpoints and selector. Chart 88.6.2 serves the same v1.
_SERVICE_MONITOR = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["endpoints", "selector"],
            "properties": {
                "endpoints": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "interval": _DURATION,
                            "scrapeTimeout": _DURATION,
                        },
                    },
                },
                "jobLabel": {"type": "string"},
                "selector": {
                    "type": "object",
                    "properties": {
                        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "matchExpressions": {"type": "array"},
                    },
                },
            },
        }
    },
}
_SECRET_REF = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "key": {"type": "string"}},
}
_CLUSTER_ISSUER = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "acme": {
                    "type": "object",
                    "required": ["privateKeySecretRef", "server"],
                    "properties": {
                        "server": {"type": "string"},
                        "email": {"type": "string"},
                        "privateKeySecretRef": _SECRET_REF,
                        "solvers": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "http01": {
                                        "type": "object",
                                        "properties": {
                                            "ingress": {
                                                "type": "object",
                                                "properties": {
                                                    "class": {"type": "string"},
                                                    "ingressClassName": {"type": "string"},
                                                    "name": {"type": "string"},
                                                },
                                            }
                                        },
                                    }
                                },
                            },
                        },
                    },
                }
            },
        }
    },
}
_CERTIFICATE = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["issuerRef", "secretName"],
            "properties": {
                "secretName": {"type": "string"},
                "commonName": {"type": "string"},
                "isCA": {"type": "boolean"},
                "duration": {"type": "string"},
                "renewBefore": {"type": "string"},
                "dnsNames": {"type": "array", "items": {"type": "string"}},
                "ipAddresses": {"type": "array", "items": {"type": "string"}},
                "usages": {
                    "type": "array",
                    "items": {
                        "type": "string",
                        "enum": [
                            "signing",
                            "digital signature",
                            "content commitment",
                            "key encipherment",
                            "key agreement",
                            "data encipherment",
                            "cert sign",
                            "crl sign",
                            "encipher only",
                            "decipher only",
                            "any",
                            "server auth",
                            "client auth",
                            "code signing",
                            "email protection",
                            "s/mime",
                            "ipsec end system",
                            "ipsec tunnel",
                            "ipsec user",
                            "timestamping",
                            "ocsp signing",
                            "microsoft sgc",
                            "netscape sgc",
                        ],
                    },
                },
                "issuerRef": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "kind": {"type": "string"}, "group": {"type": "string"}},
                },
                "privateKey": {
                    "type": "object",
                    "properties": {
                        "algorithm": {"type": "string", "enum": ["RSA", "ECDSA", "Ed25519"]},
                        "encoding": {"type": "string", "enum": ["PKCS1", "PKCS8"]},
                        "rotationPolicy": {"type": "string", "enum": ["Never", "Always"]},
                        "size": {"type": "integer"},
                    },
                },
            },
        }
    },
}

# Argo CD (argoproj.io/v1alpha1), from manifests/crds/application-crd.yaml and
# appproject-crd.yaml of Argo CD v3.5.3, which argo-cd chart 10.9.5 installs (its
# templates/crds): Application spec requires destination and project, a source requires
# repoURL, an ignoreDifferences entry requires kind, retry limit and backoff factor are
# int64; an AppProject resource filter requires group and kind.
_STRINGS = {"type": "array", "items": {"type": "string"}}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_APPLICATION_SOURCE = {
    "type": "object",
    "required": ["repoURL"],
    "properties": {
        "repoURL": {"type": "string"},
        "chart": {"type": "string"},
        "path": {"type": "string"},
        "targetRevision": {"type": "string"},
        "ref": {"type": "string"},
        "helm": {
            "type": "object",
            "properties": {
                "releaseName": {"type": "string"},
                "values": {"type": "string"},
                "valuesObject": {"type": "object"},
                "valueFiles": _STRINGS,
                "ignoreMissingValueFiles": {"type": "boolean"},
                "skipCrds": {"type": "boolean"},
                "skipSchemaValidation": {"type": "boolean"},
                "passCredentials": {"type": "boolean"},
                "version": {"type": "string"},
                "namespace": {"type": "string"},
                "kubeVersion": {"type": "string"},
                "apiVersions": _STRINGS,
                "parameters": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "value": {"type": "string"},
                            "forceString": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    },
}
_APPLICATION_DESTINATION = {
    "type": "object",
    "properties": {"server": {"type": "string"}, "namespace": {"type": "string"}, "name": {"type": "string"}},
}
_APPLICATION = {
    "type": "object",
    "required": ["metadata", "spec"],
    "properties": {
        "metadata": {
            "type": "object",
            "properties": {
                "finalizers": _STRINGS,
                "annotations": _STRING_MAP,
                "labels": _STRING_MAP,
            },
        },
        "spec": {
            "type": "object",
            "required": ["destination", "project"],
            "properties": {
                "project": {"type": "string"},
                "source": _APPLICATION_SOURCE,
                "sources": {"type": "array", "items": _APPLICATION_SOURCE},
                "destination": _APPLICATION_DESTINATION,
                "revisionHistoryLimit": {"type": "integer"},
                "info": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "value"],
                        "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                    },
                },
                "ignoreDifferences": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind"],
                        "properties": {
                            "group": {"type": "string"},
                            "kind": {"type": "string"},
                            "name": {"type": "string"},
                            "namespace": {"type": "string"},
                            "jsonPointers": _STRINGS,
                            "jqPathExpressions": _STRINGS,
                            "managedFieldsManagers": _STRINGS,
                        },
                    },
                },
                "syncPolicy": {
                    "type": "object",
                    "properties": {
                        "automated": {
                            "type": "object",
                            "properties": {
                                "enabled": {"type": "boolean"},
                                "prune": {"type": "boolean"},
                                "selfHeal": {"type": "boolean"},
                                "allowEmpty": {"type": "boolean"},
                            },
                        },
                        "syncOptions": _STRINGS,
                        "retry": {
                            "type": "object",
                            "properties": {
                                "limit": {"type": "integer"},
                                "refresh": {"type": "boolean"},
                                "backoff": {
                                    "type": "object",
                                    "properties": {
                                        "duration": {"type": "string"},
                                        "factor": {"type": "integer"},
                                        "maxDuration": {"type": "string"},
                                    },
                                },
                            },
                        },
                        "managedNamespaceMetadata": {
                            "type": "object",
                            "properties": {"labels": _STRING_MAP, "annotations": _STRING_MAP},
                        },
                    },
                },
            },
        },
    },
}
_GROUP_KIND = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["group", "kind"],
        "properties": {"group": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": "string"}},
    },
}
_APP_PROJECT = {
    "type": "object",
    "required": ["metadata", "spec"],
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "description": {"type": "string"},
                "sourceRepos": _STRINGS,
                "sourceNamespaces": _STRINGS,
                "destinations": {"type": "array", "items": _APPLICATION_DESTINATION},
                "clusterResourceWhitelist": _GROUP_KIND,
                "clusterResourceBlacklist": _GROUP_KIND,
                "namespaceResourceWhitelist": _GROUP_KIND,
                "namespaceResourceBlacklist": _GROUP_KIND,
                "permitOnlyProjectScopedClusters": {"type": "boolean"},
            },
        }
    },
}
ARGO_CD_CRDS = "argoproj/argo-cd v3.5.3 manifests/crds/{}, argo-cd chart 10.9.5"

# Traefik IngressRoute and Middleware (traefik.io/v1alpha1), from the CRDs the Traefik
# chart installs: traefik/traefik-helm-chart traefik/crds/traefik.io_ingressroutes.yaml
# and traefik.io_middlewares.yaml (controller-gen), chart 39.0.9 (Traefik v3.6).
_NAMED_REF = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}},
}
_INGRESS_ROUTE = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["routes"],
            "properties": {
                "entryPoints": {"type": "array", "items": {"type": "string"}},
                "routes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["match"],
                        "properties": {
                            "match": {"type": "string"},
                            "kind": {"type": "string", "enum": ["Rule"]},
                            "priority": {"type": "integer"},
                            "middlewares": {"type": "array", "items": _NAMED_REF},
                            "services": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["name"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "namespace": {"type": "string"},
                                        "port": {"type": ["integer", "string"]},
                                        "kind": {"type": "string", "enum": ["Service", "TraefikService"]},
                                    },
                                },
                            },
                        },
                    },
                },
                "tls": {
                    "type": "object",
                    "properties": {"secretName": {"type": "string"}, "certResolver": {"type": "string"}},
                },
            },
        }
    },
}
_MIDDLEWARE = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "stripPrefix": {
                    "type": "object",
                    "properties": {
                        "prefixes": {"type": "array", "items": {"type": "string"}},
                        "forceSlash": {"type": "boolean"},
                    },
                }
            },
        }
    },
}

# cert-manager Issuer (namespaced): the self-signed issuer and the CA issuer of Vault's
# private CA; an Issuer has exactly one of acme, ca, selfSigned, vault, venafi.
_ISSUER = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "selfSigned": {"type": "object", "properties": {"crlDistributionPoints": {"type": "array"}}},
                "ca": {
                    "type": "object",
                    "required": ["secretName"],
                    "properties": {
                        "secretName": {"type": "string"},
                        "crlDistributionPoints": {"type": "array"},
                        "ocspServers": {"type": "array"},
                    },
                },
                "acme": {"type": "object"},
                "vault": {"type": "object"},
                "venafi": {"type": "object"},
            },
        }
    },
}

# External Secrets Operator, API external-secrets.io/v1, from the CRDs its chart 2.11.0
# installs (config/crds/bases/external-secrets.io_{externalsecrets,clustersecretstores,
# secretstores}.yaml): only the fields and enums the platform uses are spelled out.
_ESO_CA_PROVIDER = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["Secret", "ConfigMap"]},
        "name": {"type": "string"},
        "key": {"type": "string"},
        "namespace": {"type": "string"},
    },
}
_ESO_VAULT_PROVIDER = {
    "type": "object",
    "required": ["server"],
    "properties": {
        "server": {"type": "string"},
        "path": {"type": "string"},
        "version": {"type": "string", "enum": ["v1", "v2"]},
        "caProvider": _ESO_CA_PROVIDER,
        "auth": {
            "type": "object",
            "properties": {
                "kubernetes": {
                    "type": "object",
                    "required": ["mountPath", "role"],
                    "properties": {
                        "mountPath": {"type": "string"},
                        "role": {"type": "string"},
                        "serviceAccountRef": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "namespace": {"type": "string"},
                                "audiences": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                }
            },
        },
    },
}
_ESO_KUBERNETES_PROVIDER = {
    "type": "object",
    "required": ["auth"],
    "properties": {
        "remoteNamespace": {"type": "string"},
        "server": {
            "type": "object",
            "properties": {"url": {"type": "string"}, "caProvider": _ESO_CA_PROVIDER},
        },
        "auth": {
            "type": "object",
            "properties": {
                "serviceAccount": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "audiences": {"type": "array"}},
                }
            },
        },
    },
}
_SECRET_STORE = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["provider"],
            "properties": {
                "provider": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {"vault": _ESO_VAULT_PROVIDER, "kubernetes": _ESO_KUBERNETES_PROVIDER},
                },
                "refreshInterval": {"type": "integer"},
            },
        }
    },
}
_NAME = {
    "type": "string",
    "maxLength": 253,
    "minLength": 1,
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
_EXTERNAL_SECRET = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "refreshInterval": {"type": "string"},
                "refreshPolicy": {"type": "string", "enum": ["CreatedOnce", "Periodic", "OnChange"]},
                "secretStoreRef": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "enum": ["SecretStore", "ClusterSecretStore"]},
                        "name": _NAME,
                    },
                },
                "target": {
                    "type": "object",
                    "properties": {
                        "name": _NAME,
                        "creationPolicy": {
                            "type": "string",
                            "enum": ["Owner", "Orphan", "Merge", "None", "CreateOrMerge"],
                        },
                        "deletionPolicy": {"type": "string", "enum": ["Delete", "Merge", "Retain"]},
                        "immutable": {"type": "boolean"},
                    },
                },
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["remoteRef", "secretKey"],
                        "properties": {
                            "secretKey": {
                                "type": "string",
                                "maxLength": 253,
                                "minLength": 1,
                                "pattern": "^[-._a-zA-Z0-9]+$",
                            },
                            "remoteRef": {
                                "type": "object",
                                "required": ["key"],
                                "properties": {
                                    "key": {"type": "string"},
                                    "property": {"type": "string"},
                                    "version": {"type": "string"},
                                    "conversionStrategy": {"type": "string", "enum": ["Default", "Unicode"]},
                                    "decodingStrategy": {
                                        "type": "string",
                                        "enum": ["Auto", "Base64", "Base64URL", "None"],
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}

# (apiVersion, kind) -> schema. Components that create a custom resource add its kind here.
CUSTOM_RESOURCE_SCHEMAS: dict[tuple[str, str], CustomResourceSchema] = {
    ("keda.sh/v1alpha1", "ScaledObject"): CustomResourceSchema(
        source="kedacore/charts keda/templates/crds/crd-scaledobjects.yaml, KEDA chart 2.20.2",
        schema=_SCALED_OBJECT,
    ),
    ("monitoring.coreos.com/v1", "PrometheusRule"): CustomResourceSchema(
        source="prometheus-operator monitoring.coreos.com_prometheusrules.yaml, kube-prometheus-stack chart 88.6.2",
        schema=_PROMETHEUS_RULE,
    ),
    ("monitoring.coreos.com/v1", "Probe"): CustomResourceSchema(
        source="prometheus-operator monitoring.coreos.com_probes.yaml, kube-prometheus-stack chart 88.6.2",
        schema=_PROBE,
    ),
    ("monitoring.coreos.com/v1", "ServiceMonitor"): CustomResourceSchema(
        source="prometheus-operator v0.77.1 monitoring.coreos.com_servicemonitors.yaml (kube-prometheus-stack crds)",
        schema=_SERVICE_MONITOR,
    ),
    ("cert-manager.io/v1", "ClusterIssuer"): CustomResourceSchema(
        source="cert-manager crd-clusterissuers.yaml, cert-manager chart v1.21.2",
        schema=_CLUSTER_ISSUER,
    ),
    ("argoproj.io/v1alpha1", "Application"): CustomResourceSchema(
        source=ARGO_CD_CRDS.format("application-crd.yaml"),
        schema=_APPLICATION,
    ),
    ("argoproj.io/v1alpha1", "AppProject"): CustomResourceSchema(
        source=ARGO_CD_CRDS.format("appproject-crd.yaml"),
        schema=_APP_PROJECT,
    ),
    ("cert-manager.io/v1", "Certificate"): CustomResourceSchema(
        source="cert-manager crd-certificates.yaml, cert-manager chart v1.21.2",
        schema=_CERTIFICATE,
    ),
    ("traefik.io/v1alpha1", "IngressRoute"): CustomResourceSchema(
        source="traefik-helm-chart crds/traefik.io_ingressroutes.yaml, Traefik chart 39.0.9",
        schema=_INGRESS_ROUTE,
    ),
    ("traefik.io/v1alpha1", "Middleware"): CustomResourceSchema(
        source="traefik-helm-chart crds/traefik.io_middlewares.yaml, Traefik chart 39.0.9",
        schema=_MIDDLEWARE,
    ),
    ("cert-manager.io/v1", "Issuer"): CustomResourceSchema(
        source="cert-manager crd-issuers.yaml, cert-manager chart v1.21.2",
        schema=_ISSUER,
    ),
    ("external-secrets.io/v1", "ClusterSecretStore"): CustomResourceSchema(
        source="external-secrets external-secrets.io_clustersecretstores.yaml, external-secrets chart 2.11.0",
        schema=_SECRET_STORE,
    ),
    ("external-secrets.io/v1", "SecretStore"): CustomResourceSchema(
        source="external-secrets external-secrets.io_secretstores.yaml, external-secrets chart 2.11.0",
        schema=_SECRET_STORE,
    ),
    ("external-secrets.io/v1", "ExternalSecret"): CustomResourceSchema(
        source="external-secrets external-secrets.io_externalsecrets.yaml, external-secrets chart 2.11.0",
        schema=_EXTERNAL_SECRET,
    ),
}

# What the API server requires of every object, whatever its CRD says.
_OBJECT_METADATA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata"],
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"},
                "namespace": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"},
            },
        },
    },
}


def is_custom_resource(manifest: Mapping[str, Any]) -> bool:
    return (str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))) in CUSTOM_RESOURCE_SCHEMAS


def custom_resource_findings(manifest: Mapping[str, Any]) -> list[str]:
    """What the CRD's schema refuses in ``manifest``; each finding gives the field path."""
    entry = CUSTOM_RESOURCE_SCHEMAS[(str(manifest.get("apiVersion")), str(manifest.get("kind")))]
    findings = []
    for schema in (_OBJECT_METADATA, entry.schema):
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(dict(manifest)), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in error.absolute_path) or "(root)"
            findings.append(f"{where}: {error.message} (schema: {entry.source})")
    return findings


def schema_entry_findings() -> list[str]:
    """Each entry names its source (CRD and chart version) and is a valid JSON schema
    that describes fields; an empty schema would accept any object."""
    findings = []
    for (api_version, kind), entry in CUSTOM_RESOURCE_SCHEMAS.items():
        key = f"{api_version} {kind}"
        if "/" not in api_version or not kind[:1].isupper():
            findings.append(f"{key}: not an apiVersion group/version and a kind")
        if not entry.source.strip() or not any(char.isdigit() for char in entry.source):
            findings.append(f"{key}: the source must name the CRD and the chart version it ships with")
        try:
            jsonschema.Draft7Validator.check_schema(dict(entry.schema))
        except jsonschema.SchemaError as error:
            findings.append(f"{key}: invalid schema: {error.message}")
        if not entry.schema.get("properties"):
            findings.append(f"{key}: the schema describes no field, so it accepts any object")
    return findings
