class DemoPipeline:
    pass
