from jobs import tools


class CalcConfig(tools.ToolConfig):
    name = "calc"
    verbose_name = "CloudCal"
    tool = tools.Tool(
        name="calc",
        label="CloudCal",
        request_queue="cloudcal-requests",
        response_queue="cloudcal-responses",
        model_name="CalcJob",
        handler="calc.handler.handle",
        summary="Count, minimum, maximum, mean and median of a list of numbers, "
        "computed by a worker in the cloud.",
        action="Compute statistics",
    )
