from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from asynq_django.tasks_api import TaskResultDoesNotExist
from shop.models import Order
from shop.tasks import fulfil_order


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/index.html", {"orders": Order.objects.order_by("-id")[:20]})


@require_POST
def place_order(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        order = Order.objects.create(
            item=request.POST.get("item") or "tea", quantity=int(request.POST.get("quantity") or 1)
        )
        # The worker only hears of the order once the row is committed.
        result = fulfil_order.enqueue_on_commit(order.pk)
        order.task_id = result.id
        order.save(update_fields=["task_id"])
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"order": order.pk, "task": result.id})
    return redirect("index")


def order_status(request: HttpRequest, order_id: int) -> JsonResponse:
    order = Order.objects.get(pk=order_id)
    try:
        result = fulfil_order.get_result(order.task_id)
    except TaskResultDoesNotExist:
        task = {"status": "UNKNOWN"}
    else:
        task = {"status": result.status, "attempts": result.attempts}
        if result.is_finished and result.status == "SUCCESSFUL":
            task["return_value"] = result.return_value
    return JsonResponse(
        {"order": order.pk, "status": order.status, "receipt": order.receipt, "task": task}
    )
