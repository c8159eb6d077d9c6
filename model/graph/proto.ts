/**
 * TensorFlow GraphDef / SavedModel serialisation for graphs built in TypeScript.
 *
 * Uses the protobuf classes compiled from TensorFlow's own .proto files that tfjs-node (and
 * tfjs-node-gpu) ship and use themselves to read SavedModels: dist/proto/api_pb.js, on
 * google-protobuf. tfjs is pinned at 4.22.0 in package.json, so this deep import is stable.
 */
let loaded: ApiPb | undefined;

/**
 * Every class and method of api_pb used below: model/tfjs-internals.ts checks them when the backend
 * starts, so a tfjs upgrade that changes them fails naming what is gone.
 */
export const API_PB_USED: Record<string, string[]> = {
  GraphDef: ['setNodeList', 'setVersions'],
  VersionDef: ['setProducer'],
  NodeDef: ['setName', 'setOp', 'setInputList', 'getAttrMap'],
  AttrValue: ['setType', 'setShape', 'setI', 'setF', 'setB', 'setS', 'setList', 'setTensor'],
  'AttrValue.ListValue': ['setIList'],
  TensorShape: ['setDimList'],
  'TensorShape.Dim': ['setSize'],
  Tensor: ['setDtype', 'setTensorShape', 'setTensorContent'],
  MetaGraphDef: ['setMetaInfoDef', 'setGraphDef'],
  'MetaGraphDef.MetaInfoDef': ['setTagsList'],
  SavedModel: ['setSavedModelSchemaVersion', 'setMetaGraphsList', 'serializeBinary'],
};

/** The compiled protos, from whichever tfjs-node package is installed (both are optional). */
export function protos(): ApiPb {
  if (loaded) return loaded;
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    try {
      return (loaded = require(`${pkg}/dist/proto/api_pb`) as ApiPb);
    } catch (error) {
      errors.push(`${pkg}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`TensorFlow's protobuf classes not found (${errors.join('; ')})`);
}

/** TensorFlow DataType enum values used here. */
export const DT = { float: 1, double: 2, int32: 3, resource: 20 } as const;
export type DataType = (typeof DT)[keyof typeof DT];

/** One attribute value, as the op's OpDef declares it. */
export type Attr =
  | { type: DataType }
  | { shape: number[] }
  | { i: number }
  | { f: number }
  | { b: boolean }
  | { s: string }
  | { ints: number[] }
  | { tensor: ConstTensor };

export interface ConstTensor {
  dtype: typeof DT.float | typeof DT.double | typeof DT.int32;
  shape: number[];
  values: number[];
}

export interface NodeSpec {
  name: string;
  op: string;
  /** "node", "node:1", or "^node" for a control dependency (after all data inputs). */
  inputs: string[];
  attrs: Record<string, Attr>;
}

/** A SavedModel (one meta graph, tag `tags`, no variables directory) holding `nodes`. */
export function savedModelBytes(nodes: NodeSpec[], tags: string[]): Uint8Array {
  const pb = protos();
  const graph = new pb.GraphDef();
  graph.setNodeList(nodes.map(nodeDef));
  const versions = new pb.VersionDef();
  versions.setProducer(GRAPH_PRODUCER);
  graph.setVersions(versions);
  const info = new pb.MetaGraphDef.MetaInfoDef();
  info.setTagsList(tags);
  const meta = new pb.MetaGraphDef();
  meta.setMetaInfoDef(info);
  meta.setGraphDef(graph);
  const model = new pb.SavedModel();
  model.setSavedModelSchemaVersion(1);
  model.setMetaGraphsList([meta]);
  return model.serializeBinary();
}

/** GraphDef version of TensorFlow 2.x: ops are interpreted with their current semantics. */
const GRAPH_PRODUCER = 1994;

function nodeDef(spec: NodeSpec): PbMessage {
  const pb = protos();
  const node = new pb.NodeDef();
  node.setName(spec.name);
  node.setOp(spec.op);
  node.setInputList(spec.inputs);
  const attrs = node.getAttrMap();
  for (const [key, value] of Object.entries(spec.attrs)) attrs.set(key, attrValue(value));
  return node;
}

function attrValue(attr: Attr): PbMessage {
  const pb = protos();
  const value = new pb.AttrValue();
  if ('type' in attr) value.setType(attr.type);
  else if ('shape' in attr) value.setShape(shapeProto(attr.shape));
  else if ('i' in attr) value.setI(attr.i);
  else if ('f' in attr) value.setF(attr.f);
  else if ('b' in attr) value.setB(attr.b);
  else if ('s' in attr) value.setS(Buffer.from(attr.s, 'utf8'));
  else if ('ints' in attr) {
    const list = new pb.AttrValue.ListValue();
    list.setIList(attr.ints);
    value.setList(list);
  } else value.setTensor(tensorProto(attr.tensor));
  return value;
}

function shapeProto(dims: number[]): PbMessage {
  const pb = protos();
  const shape = new pb.TensorShape();
  shape.setDimList(
    dims.map((size) => {
      const dim = new pb.TensorShape.Dim();
      dim.setSize(size);
      return dim;
    }),
  );
  return shape;
}

function tensorProto(tensor: ConstTensor): PbMessage {
  const pb = protos();
  const proto = new pb.Tensor();
  proto.setDtype(tensor.dtype);
  proto.setTensorShape(shapeProto(tensor.shape));
  const bytes = tensor.dtype === DT.float ? new Float32Array(tensor.values) : tensor.dtype === DT.double ? new Float64Array(tensor.values) : new Int32Array(tensor.values);
  proto.setTensorContent(new Uint8Array(bytes.buffer));
  return proto;
}

// The slice of google-protobuf's generated API used above.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PbMessage = Record<string, (...args: any[]) => any>;
type PbClass = new () => PbMessage;
interface ApiPb {
  GraphDef: PbClass;
  VersionDef: PbClass;
  NodeDef: PbClass;
  AttrValue: PbClass & { ListValue: PbClass };
  TensorShape: PbClass & { Dim: PbClass };
  Tensor: PbClass;
  MetaGraphDef: PbClass & { MetaInfoDef: PbClass };
  SavedModel: PbClass;
}
