"""DynamoDB tables for the tests, made with plain boto3 as a user would make them."""

__all__ = ["hash_key_table"]


def hash_key_table(dynamodb, name: str, key: str = "pk", key_type: str = "S"):
    """A pay-per-request table keyed by one attribute, made through a boto3 resource."""
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": key_type}],
        BillingMode="PAY_PER_REQUEST",
    )
