class MyUNet:
    pass
