"""tractusx-platform: a production Eclipse Tractus-X platform on AWS, one stack per region."""

import pulumi

from components.aws_context import AwsContext
from components.platform import Platform
from components.settings import load_settings

settings = load_settings()
platform = Platform("tractusx", settings, AwsContext.lookup(settings.region))
for key, value in platform.exports.items():
    pulumi.export(key, value)
