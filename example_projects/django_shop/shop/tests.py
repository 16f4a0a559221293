"""The shop's own tests: `python manage.py test` (needs $ASYNQ_REDIS_URL or a redis-server)."""

from __future__ import annotations

import os

from django.core.management import call_command
from django.test import TransactionTestCase

from asynq.demo import EmbeddedRedis
from asynq_django.conf import reload
from shop.models import Order
from shop.tasks import fulfil_order


class OrderFlowTests(TransactionTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.redis = None
        if not os.environ.get("ASYNQ_REDIS_URL"):
            cls.redis = EmbeddedRedis().__enter__()
            os.environ["ASYNQ_REDIS_URL"] = cls.redis.url
            reload()

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.redis is not None:
            cls.redis.__exit__(None, None, None)
            del os.environ["ASYNQ_REDIS_URL"]
        super().tearDownClass()

    def test_an_order_is_fulfilled_and_receipted_by_the_worker(self) -> None:
        response = self.client.post("/orders", {"item": "coffee", "quantity": 2})
        self.assertEqual(response.status_code, 302)
        order = Order.objects.get()
        self.assertEqual(fulfil_order.get_result(order.task_id).status, "READY")

        call_command("asynq_worker", "--burst", "--queue", "orders,default,low", verbosity=0)

        order.refresh_from_db()
        self.assertEqual(order.status, "fulfilled")
        self.assertEqual(order.receipt, "receipt for 2 x coffee")
        result = fulfil_order.get_result(order.task_id)
        self.assertEqual(result.return_value, {"order": order.pk, "items": 2})
        status = self.client.get(f"/orders/{order.pk}.json").json()
        self.assertEqual(status["task"]["status"], "SUCCESSFUL")
