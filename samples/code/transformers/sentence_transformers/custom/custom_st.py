"""mscan sample: a stand-in for code a model repo ships. Never imported by mscan."""


class DemoEncoder:
    def __init__(self, *args, **kwargs):
        print('mscan-sample')
