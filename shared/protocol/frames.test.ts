import { expect } from 'chai';
import { FrameDecoder, MAX_FRAME_BYTES, encodeFrame } from './frames.ts';

describe('frames', () => {
  it('decodes messages split across and merged within chunks', () => {
    const bytes = Buffer.concat([encodeFrame({ a: 1 }), encodeFrame({ b: 'ü'.repeat(1000) }), encodeFrame([3])]);
    const decoder = new FrameDecoder();
    const got: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 7) got.push(...decoder.push(bytes.subarray(i, i + 7)).messages);
    expect(got).to.deep.equal([{ a: 1 }, { b: 'ü'.repeat(1000) }, [3]]);
  });

  it('refuses a frame announced larger than the limit before buffering it', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    const result = new FrameDecoder().push(head);
    expect(result.error?.code).to.equal('FrameTooLarge');
  });

  it('reports a frame that is not JSON', () => {
    const body = Buffer.from('{nope');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length, 0);
    const result = new FrameDecoder().push(Buffer.concat([encodeFrame({ ok: true }), head, body]));
    expect(result.messages).to.deep.equal([{ ok: true }]);
    expect(result.error?.code).to.equal('BadJson');
  });
});
