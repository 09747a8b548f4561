"""The AMIs the hosts run, as public SSM parameters, and each AMI's default SSH user (pulumi-docker connects as it).

Pure constants: the bootstrap, the SSH helpers and the hosts read the users from here; the stack resolves the
parameters (``aws.ssm.get_parameter``) when it wires the hosts.
"""

# The Deep Learning Base GPU AMI (driver, Docker, NVIDIA Container Toolkit, AWS CLI) as a public SSM
# parameter (DLAMI release notes); resolved at deploy time unless an AMI id is configured.
DLAMI_SSM_PARAMETER = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-24.04/latest/ami-id"
DLAMI_SSH_USER = "ubuntu"
# The dedicated monitoring host: Amazon Linux 2023 (SSM agent and AWS CLI included; Docker from packages).
MONITORING_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
MONITORING_SSH_USER = "ec2-user"
