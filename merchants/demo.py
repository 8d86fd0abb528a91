"""Demo merchants and their users. The loss-engine work extends this with sessions and metrics."""

from accounts.demo import ensure_user

from .models import Merchant

MERCHANTS = [
    ("tea-house", "西湖茶庄 West Lake Tea", "Asia/Shanghai", "CNY"),
    ("silk-road", "丝路服饰 Silk Road Apparel", "Asia/Shanghai", "CNY"),
    ("glow-beauty", "光彩美妆 Glow Beauty", "Asia/Shanghai", "CNY"),
    ("snack-king", "零食大王 Snack King", "Asia/Shanghai", "CNY"),
]


def seed(stdout):
    for code, name, tz, currency in MERCHANTS:
        merchant, _ = Merchant.objects.get_or_create(
            code=code, defaults={"name": name, "timezone": tz, "currency": currency}
        )
        user = ensure_user(code.replace("-", ""), "merchant", name)
        merchant.memberships.get_or_create(user=user)
