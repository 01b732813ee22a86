"""The bottom layer: the types that travel through the product and the helpers every layer shares.

Nothing here imports torch, Qt or any other fervision package, so every layer may import it.
"""
