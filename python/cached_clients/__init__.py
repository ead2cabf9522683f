"""Cached STS credentials, boto3 clients and DynamoDB GetItem for AWS Lambda."""
