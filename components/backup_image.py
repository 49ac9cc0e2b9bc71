"""The container image of the backup and restore programs, built at deploy time into ECR.

``images/backup/Dockerfile`` (build context: the repository root) packages the
``txbackup`` programs with the PostgreSQL client tools and the Amazon RDS CA bundle.
``pulumi up`` builds it with BuildKit and pushes it to a private ECR repository of the
stack: KMS-encrypted, scanned on push, tags immutable. Workloads reference the pushed
image by digest, so what runs is exactly what was built and scanned.

The tag is a hash of the paths and contents of the files that go into the image: an
unchanged tree keeps its tag (nothing is rebuilt), a changed one gets a new tag, which an
immutable repository needs. A push of an existing tag fails there (ECR user guide, "Image
tag mutability": ImageTagAlreadyExistsException), so what decides a rebuild must be
exactly what decides the tag. pulumi-docker-build rebuilds when its context hash changes,
and that hash covers each file's mode as well as its path and contents
(pulumi/pulumi-docker-build provider/internal/context.go, ``hashFile``): a second checkout
with another umask would be rebuilt, and refused, under the same tag. So the image is
built from a copy of its sources with normalised modes and timestamps
(``stage_context``), the same from any checkout; the build sets SOURCE_DATE_EPOCH to the
same fixed time, which BuildKit uses for the image's timestamps (Docker docs, "Reproducible
builds").
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build
import pulumi_kubernetes as k8s

from components.aws_context import AwsContext
from components.keys import customer_key

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Relative to the project directory, where Pulumi runs the program: the normalised copy
# of the image's sources (``build/`` is ignored by git), and its Dockerfile.
BUILD_CONTEXT = "build/backup-image"
DOCKERFILE = f"{BUILD_CONTEXT}/images/backup/Dockerfile"
# Modes and timestamp of every file and directory of the copy; the Dockerfile sets the
# modes inside the image itself (COPY --chmod).
FILE_MODE = 0o644
DIRECTORY_MODE = 0o755
SOURCE_DATE_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the oldest time every archive format holds
# What the image is built from: its Dockerfile and the programs it packages. The
# Dockerfile's own ignore file (images/backup/Dockerfile.dockerignore) sends only these
# paths as the build context, so the builder's context hash and the tag below change
# together: a rebuild always comes with a new tag.
IMAGE_SOURCES = ("images/backup", "txbackup")
IGNORE_FILE = "images/backup/Dockerfile.dockerignore"
# The repository, under the stack's name prefix.
REPOSITORY = "backup"
# The nodes are x86_64 (Amazon Linux 2023, ``NODE_AMI_TYPE``).
PLATFORM = docker_build.Platform.LINUX_AMD64
# Images kept in the repository; older ones expire. CronJobs always run the newest.
KEEP_IMAGES = 20
# Where the image ships the Amazon RDS CA bundle (the contract with the programs).
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"
# The image's user and group (images/backup/Dockerfile `USER 10001:10001`).
USER_ID = 10001


def image_files(root: Path = PROJECT_DIR) -> list[str]:
    """The image's source files, as sorted POSIX paths relative to ``root`` (what the
    Dockerfile's ignore file lets into the context)."""
    found = []
    for source in IMAGE_SOURCES:
        for path in (root / source).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def source_tag(root: Path = PROJECT_DIR) -> str:
    """``txbackup-<hash>``: a hash over the paths and contents of every image source file
    (modes and timestamps are normalised in the build context, so they do not count)."""
    digest = hashlib.sha256()
    for name in image_files(root):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return f"txbackup-{digest.hexdigest()[:16]}"


def stage_context(root: Path = PROJECT_DIR, target: Path | None = None) -> Path:
    """Makes ``target`` (default ``root/BUILD_CONTEXT``) hold exactly the image's source
    files, each with FILE_MODE, every directory with DIRECTORY_MODE, all timestamps at
    SOURCE_DATE_EPOCH, whatever the checkout's umask and times; returns it."""
    target = target or root / BUILD_CONTEXT
    wanted = image_files(root)
    if target.exists():
        shutil.rmtree(target)
    for name in wanted:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes((root / name).read_bytes())
        os.chmod(destination, FILE_MODE)
        os.utime(destination, (SOURCE_DATE_EPOCH, SOURCE_DATE_EPOCH))
    for directory in sorted({target, *(p for p in target.rglob("*") if p.is_dir())}, reverse=True):
        os.chmod(directory, DIRECTORY_MODE)
        os.utime(directory, (SOURCE_DATE_EPOCH, SOURCE_DATE_EPOCH))
    return target


def lifecycle_policy(keep: int = KEEP_IMAGES) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the newest {keep} images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
                    "action": {"type": "expire"},
                }
            ]
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class BackupImageArgs:
    name_prefix: str
    ctx: AwsContext
    tags: Mapping[str, str]


class BackupImage(pulumi.ComponentResource):
    repository: aws.ecr.Repository
    image: docker_build.Image
    ref: pulumi.Output[str]  # <repository>@sha256:<digest>

    def __init__(self, name: str, args: BackupImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:backup:BackupImage", name, None, opts)
        key = customer_key(
            f"{name}-key",
            alias=f"{args.name_prefix}-images",
            description=f"Container images of {args.name_prefix} in ECR",
            ctx=args.ctx,
            parent=self,
            tags=args.tags,
        )
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=f"{args.name_prefix}/{REPOSITORY}",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)
            ],
            force_delete=False,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        token = aws.ecr.get_authorization_token_output(registry_id=self.repository.registry_id)
        tag = source_tag()
        stage_context()
        self.image = docker_build.Image(
            f"{name}-image",
            context=docker_build.BuildContextArgs(location=BUILD_CONTEXT),
            dockerfile=docker_build.DockerfileArgs(location=DOCKERFILE),
            build_args={"SOURCE_DATE_EPOCH": str(SOURCE_DATE_EPOCH)},
            platforms=[PLATFORM],
            tags=[pulumi.Output.concat(self.repository.repository_url, ":", tag)],
            push=True,
            # Built and pushed by `pulumi up` only; a preview changes nothing in ECR.
            build_on_preview=False,
            registries=[
                docker_build.RegistryArgs(
                    address=self.repository.repository_url,
                    username=token.user_name,
                    password=pulumi.Output.secret(token.password),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ref = pulumi.Output.concat(self.repository.repository_url, "@", self.image.digest)
        self.register_outputs({"repository_url": self.repository.repository_url, "ref": self.ref})


def program_pod(
    *,
    image: pulumi.Input[str],
    service_account: str,
    container: str,
    args: Sequence[str],
    env: Sequence[k8s.core.v1.EnvVarArgs],
    requests: Mapping[str, str],
    limits: Mapping[str, str],
    volumes: Sequence[k8s.core.v1.VolumeArgs],
    volume_mounts: Sequence[k8s.core.v1.VolumeMountArgs],
) -> k8s.core.v1.PodSpecArgs:
    """A Job's pod running ``python3 -m txbackup <args>`` from this image: as the image's
    non-root user, read-only root filesystem, no capabilities, seccomp RuntimeDefault.

    The ServiceAccount token stays mounted: it is the programs' Kubernetes API and Vault
    login, and the EKS pod identity webhook's IRSA token injection is not documented to
    work without it (an account bound to no role opens nothing with it)."""
    return k8s.core.v1.PodSpecArgs(
        service_account_name=service_account,
        automount_service_account_token=True,
        restart_policy="Never",
        enable_service_links=False,
        security_context=k8s.core.v1.PodSecurityContextArgs(
            run_as_non_root=True,
            run_as_user=USER_ID,
            run_as_group=USER_ID,
            fs_group=USER_ID,
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        containers=[
            k8s.core.v1.ContainerArgs(
                name=container,
                image=image,
                command=["python3", "-m", "txbackup", *args],
                env=list(env),
                resources=k8s.core.v1.ResourceRequirementsArgs(requests=dict(requests), limits=dict(limits)),
                security_context=k8s.core.v1.SecurityContextArgs(
                    allow_privilege_escalation=False,
                    read_only_root_filesystem=True,
                    capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                ),
                volume_mounts=list(volume_mounts),
            )
        ],
        volumes=list(volumes),
    )
