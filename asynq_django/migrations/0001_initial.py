from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Dashboard",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False)),
            ],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("view_dashboard", "Can view the asynq dashboard"),
                    ("manage_tasks", "Can run, archive, delete and cancel tasks and pause queues"),
                ],
                "verbose_name": "task queue dashboard",
                "verbose_name_plural": "task queue dashboard",
            },
        ),
    ]
