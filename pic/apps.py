from jobs import tools


class PicConfig(tools.ToolConfig):
    name = "pic"
    verbose_name = "CloudPic"
    tool = tools.Tool(
        name="pic",
        label="CloudPic",
        request_queue="cloudpic-inbox",
        response_queue="cloudpic-outbox",
        model_name="PicJob",
        handler="pic.handler.handle",
        summary="Contrast, colour and detail of a photo raised by up to 30%, "
        "by a worker in the cloud.",
        action="Enhance a photo",
    )
