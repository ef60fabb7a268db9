# The store's default language for the shopper's pages (docs/contract.md §10).

from django.db import migrations, models

import shipments.models.stores


class Migration(migrations.Migration):
    dependencies = [
        ("shipments", "0014_push_seen_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="store",
            name="default_language",
            field=models.CharField(
                choices=shipments.models.stores.language_choices,
                default="en",
                help_text="For shoppers whose browser asks for none of the languages we offer.",
                max_length=8,
                verbose_name="default language",
            ),
        ),
    ]
