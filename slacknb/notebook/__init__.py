"""The ``%%slackreport`` cell magic and a notebook cell as a reported job."""
