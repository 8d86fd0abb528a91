"""Demo providers, services, regions, a month of incidents and maintenance windows."""


def seed(stdout):
    pass  # filled in by the incidents work
