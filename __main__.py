"""tractusx-platform: a production Eclipse Tractus-X platform on AWS, one stack per region."""

import pulumi

from components.aws_context import AwsContext
from components.platform import Platform
from components.settings import deploys_nothing, load_settings, refuse_example_values, stack_example_values
from components.state_backend import refuse_unsafe_layout

settings = load_settings()
refuse_example_values(stack_example_values(), offline=deploys_nothing())
refuse_unsafe_layout(offline=deploys_nothing())
platform = Platform("tractusx", settings, AwsContext.lookup(settings.region))
for key, value in platform.exports.items():
    pulumi.export(key, value)
