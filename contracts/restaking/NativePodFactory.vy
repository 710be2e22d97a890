# pragma version ~=0.4.3
"""
@title NativePodFactory: one NativePod per restaker
@notice `create_pod` deploys an EIP-1167 minimal proxy of the NativePod implementation for
        the caller and initializes it with the protocol addresses. The ValidatorRegistry
        (`propose_for_pod`) and nETH (`mint`/`burn`) trust exactly the pods listed here.
        Slashed nETH leaves the ETH behind it in the pod; a finished pod sends that ETH to
        `SLASH_SINK` (docs/restaking-marketplace.md, "Native restaking").
"""


interface INativePod:
    def initialize(owner: address, registry: address, native_ether: address, vault: address, slash_sink: address): nonpayable


event PodCreated:
    owner: indexed(address)
    pod: indexed(address)


VALIDATOR_REGISTRY: public(immutable(address))
NATIVE_ETHER: public(immutable(address))
NATIVE_VAULT: public(immutable(address))
POD_IMPLEMENTATION: public(immutable(address))
SLASH_SINK: public(immutable(address))

pod_of: public(HashMap[address, address])
is_pod: public(HashMap[address, bool])
pod_count: public(uint256)


@deploy
def __init__(validator_registry: address, native_ether: address, native_vault: address, pod_implementation: address, slash_sink: address):
    """@param slash_sink receives the ETH behind slashed nETH (e.g. 0x…dEaD: burnt)."""
    assert validator_registry != empty(address) and native_ether != empty(address), "factory: zero address"
    assert native_vault != empty(address) and pod_implementation != empty(address), "factory: zero address"
    assert slash_sink != empty(address), "factory: zero address"
    VALIDATOR_REGISTRY = validator_registry
    NATIVE_ETHER = native_ether
    NATIVE_VAULT = native_vault
    POD_IMPLEMENTATION = pod_implementation
    SLASH_SINK = slash_sink


@external
def create_pod() -> address:
    """@notice The caller's pod (one per owner)."""
    assert self.pod_of[msg.sender] == empty(address), "factory: owner already has a pod"
    pod: address = create_minimal_proxy_to(POD_IMPLEMENTATION)
    self.pod_of[msg.sender] = pod
    self.is_pod[pod] = True
    self.pod_count += 1
    extcall INativePod(pod).initialize(msg.sender, VALIDATOR_REGISTRY, NATIVE_ETHER, NATIVE_VAULT, SLASH_SINK)
    log PodCreated(owner=msg.sender, pod=pod)
    return pod
