/// The OpenRPC document, embedded in the binary at build time from `Protocol/openrpc.json`.
let openRPCDocumentBytes: [UInt8] = PackageResources.openrpc_json
