"""Availability per month against target, as plain SVG geometry for a template."""

from decimal import Decimal

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 240, 56, 32, 16, 36  # RIGHT leaves room for the last month label


def availability_chart(evaluations, target: Decimal) -> dict:
    """Points (x, y), the target line and y-axis ticks for a list of evaluations in month order."""
    values = [e.availability_percent for e in evaluations]
    low = min([*values, target]) if values else target
    # Scale from a round figure below the worst month (or target) up to 100 %.
    floor = Decimal(int(low * 10) - 1) / 10 if low < 100 else Decimal("99.9")
    floor = max(floor, Decimal(0))
    span = Decimal(100) - floor
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(values) - 1, 1)

    def y(value: Decimal) -> float:
        return round(TOP + float((Decimal(100) - value) / span) * plot_h, 1)

    points = []
    for i, e in enumerate(evaluations):
        x = round(LEFT + (i * step if len(values) > 1 else plot_w / 2), 1)
        points.append(
            {"x": x, "y": y(e.availability_percent), "evaluation": e, "below": e.availability_percent < target}
        )
    ticks = [{"value": floor + span * k / 4, "y": y(floor + span * k / 4)} for k in range(5)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": HEIGHT - BOTTOM,
        "label_y": HEIGHT - BOTTOM + 18,
        "target_y": y(target),
        "target": target,
        "points": points,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "ticks": ticks,
    }
