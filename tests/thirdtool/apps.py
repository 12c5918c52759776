from jobs import tools


class ThirdToolConfig(tools.ToolConfig):
    name = "tests.thirdtool"
    label = "thirdtool"
    verbose_name = "CloudEcho"
    tool = tools.Tool(
        name="echo",
        label="CloudEcho",
        request_queue="cloudecho-requests",
        response_queue="cloudecho-responses",
        model_name="EchoJob",
        handler="tests.thirdtool.handler.handle",
        summary="Says back what it was sent, by a worker in the cloud.",
        action="Echo a word",
    )
