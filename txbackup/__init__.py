"""Backup and restore programs run by the platform's backup CronJobs (``python3 -m txbackup``).

Playbook "Backup Strategy" 1-3 and "Weekly Tasks" 3: database, configuration and certificate
backups streamed to S3 with a manifest written last, and a restore program with a weekly
restore test. Runs with the Debian packages of the backup image (python3-boto3,
python3-cryptography, python3-psycopg) and the PostgreSQL client tools.
"""
