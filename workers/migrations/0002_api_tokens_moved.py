# ApiToken now belongs to the cloudsite app (cloudsite/migrations/0001_api_tokens.py),
# which took over its table: drop it from this app's state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("workers", "0001_api_tokens"),
        ("cloudsite", "0001_api_tokens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiToken")],
            database_operations=[],
        ),
    ]
