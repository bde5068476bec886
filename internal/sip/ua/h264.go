package ua

// A door station's camera, for the simulator: a short H.264 Constrained
// Baseline stream (QCIF, 25 frames a second) made here rather than by an
// encoder. Its key frame carries the picture uncompressed (I_PCM
// macroblocks: colour bars); the frames between repeat it (every
// macroblock skipped). Any decoder shows it; it is meant for counting
// packets and checking negotiation, not for looking at.

const (
	videoWidthMBs, videoHeightMBs = 11, 9 // 176×144
	videoFPS                      = 25
	videoGOP                      = 50 // frames from one key frame to the next
)

// bitWriter writes the bit fields of an H.264 RBSP.
type bitWriter struct {
	buf  []byte
	bits int // bits used in the last byte, 0–7
}

func (w *bitWriter) bit(b uint) {
	if w.bits == 0 {
		w.buf = append(w.buf, 0)
	}
	if b != 0 {
		w.buf[len(w.buf)-1] |= 0x80 >> w.bits
	}
	w.bits = (w.bits + 1) % 8
}

func (w *bitWriter) u(n int, v uint) {
	for i := n - 1; i >= 0; i-- {
		w.bit(v >> i & 1)
	}
}

// ue writes an unsigned Exp-Golomb code.
func (w *bitWriter) ue(v uint) {
	v++
	n := 0
	for x := v; x > 1; x >>= 1 {
		n++
	}
	w.u(n, 0)
	w.u(n+1, v)
}

func (w *bitWriter) align() {
	for w.bits != 0 {
		w.bit(0)
	}
}

// trailing writes rbsp_trailing_bits.
func (w *bitWriter) trailing() {
	w.bit(1)
	w.align()
}

// nal wraps an RBSP as an Annex B NAL unit, with emulation prevention.
func nal(header byte, rbsp []byte) []byte {
	out := []byte{0, 0, 0, 1, header}
	zeros := 0
	for _, b := range rbsp {
		if zeros == 2 && b <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, b)
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

func sps() []byte {
	var w bitWriter
	w.u(8, 66)   // profile_idc: Baseline
	w.u(8, 0xC0) // constraint_set0 and set1: Constrained Baseline
	w.u(8, 30)   // level 3.0
	w.ue(0)      // seq_parameter_set_id
	w.ue(0)      // log2_max_frame_num_minus4: frame_num has 4 bits
	w.ue(2)      // pic_order_cnt_type 2: output order is decoding order
	w.ue(1)      // max_num_ref_frames
	w.u(1, 0)    // gaps_in_frame_num_value_allowed_flag
	w.ue(videoWidthMBs - 1)
	w.ue(videoHeightMBs - 1)
	w.u(1, 1) // frame_mbs_only_flag
	w.u(1, 1) // direct_8x8_inference_flag
	w.u(1, 0) // frame_cropping_flag
	w.u(1, 0) // vui_parameters_present_flag
	w.trailing()
	return nal(0x67, w.buf)
}

func pps() []byte {
	var w bitWriter
	w.ue(0)   // pic_parameter_set_id
	w.ue(0)   // seq_parameter_set_id
	w.u(1, 0) // entropy_coding_mode_flag: CAVLC
	w.u(1, 0) // bottom_field_pic_order_in_frame_present_flag
	w.ue(0)   // num_slice_groups_minus1
	w.ue(0)   // num_ref_idx_l0_default_active_minus1
	w.ue(0)   // num_ref_idx_l1_default_active_minus1
	w.u(1, 0) // weighted_pred_flag
	w.u(2, 0) // weighted_bipred_idc
	w.ue(0)   // pic_init_qp_minus26 (se 0 = ue 0)
	w.ue(0)   // pic_init_qs_minus26
	w.ue(0)   // chroma_qp_index_offset
	w.u(1, 0) // deblocking_filter_control_present_flag
	w.u(1, 0) // constrained_intra_pred_flag
	w.u(1, 0) // redundant_pic_cnt_present_flag
	w.trailing()
	return nal(0x68, w.buf)
}

// colourBars are the Y, Cb, Cr of eight bars, never below 16 (so the
// samples never look like a start code).
var colourBars = [8][3]byte{{235, 128, 128}, {210, 16, 146}, {170, 166, 16}, {145, 54, 34}, {106, 202, 222}, {81, 90, 240}, {41, 240, 110}, {16, 128, 128}}

// idrFrame is the key frame: every macroblock I_PCM.
func idrFrame(idrID uint) []byte {
	var w bitWriter
	w.ue(0)     // first_mb_in_slice
	w.ue(7)     // slice_type: I, every slice of the picture
	w.ue(0)     // pic_parameter_set_id
	w.u(4, 0)   // frame_num
	w.ue(idrID) // idr_pic_id
	w.u(1, 0)   // no_output_of_prior_pics_flag
	w.u(1, 0)   // long_term_reference_flag
	w.ue(0)     // slice_qp_delta (se 0)
	for mb := range videoWidthMBs * videoHeightMBs {
		bar := colourBars[(mb%videoWidthMBs)*len(colourBars)/videoWidthMBs]
		w.ue(25) // mb_type I_PCM
		w.align()
		for range 256 {
			w.buf = append(w.buf, bar[0])
		}
		for range 64 {
			w.buf = append(w.buf, bar[1])
		}
		for range 64 {
			w.buf = append(w.buf, bar[2])
		}
	}
	w.trailing()
	return nal(0x65, w.buf)
}

// skipFrame is a frame that repeats the previous one.
func skipFrame(frameNum uint) []byte {
	var w bitWriter
	w.ue(0)                              // first_mb_in_slice
	w.ue(5)                              // slice_type: P
	w.ue(0)                              // pic_parameter_set_id
	w.u(4, frameNum%16)                  // frame_num
	w.u(1, 0)                            // num_ref_idx_active_override_flag
	w.u(1, 0)                            // ref_pic_list_modification_flag_l0
	w.u(1, 0)                            // adaptive_ref_pic_marking_mode_flag
	w.ue(0)                              // slice_qp_delta
	w.ue(videoWidthMBs * videoHeightMBs) // mb_skip_run: all of them
	w.trailing()
	return nal(0x41, w.buf)
}

// videoFrame is frame i of the endless stream, as Annex B NAL units; a
// key frame comes with the SPS and PPS.
func videoFrame(i int) []byte {
	n := i % videoGOP
	if n == 0 {
		f := append(sps(), pps()...)
		return append(f, idrFrame(uint(i/videoGOP%2))...)
	}
	return skipFrame(uint(n))
}
